// Placement of one replica: hard filter, then the best direction fit, ties broken by the
// most room left, then by configured order. Pure: hosts and request in, a choice out.
import { cosineSimilarity, fitVectors, magnitude } from './cosine-fit.js';
import { type RejectReason, rejectReason } from './host-filter.js';
import type { HostState, PlacementSettings, ReplicaRequest } from './host-state.js';

export interface HostScore {
  id: string;
  similarity: number;
  remaining: number;
}

export type Placement =
  | { ok: true; host: HostState; scores: HostScore[] }
  | { ok: false; rejected: { id: string; reason: RejectReason }[] };

const TIE = 1e-9;

export function chooseHost(
  hosts: readonly HostState[],
  req: ReplicaRequest,
  s: PlacementSettings,
): Placement {
  const rejected: { id: string; reason: RejectReason }[] = [];
  const candidates: { host: HostState; score: HostScore; order: number }[] = [];
  hosts.forEach((host, order) => {
    const reason = rejectReason(host, req, s);
    if (reason !== null) {
      rejected.push({ id: host.id, reason });
      return;
    }
    const v = fitVectors(host, req, s);
    candidates.push({
      host,
      order,
      score: {
        id: host.id,
        similarity: cosineSimilarity(v.remaining, v.request),
        remaining: magnitude(v.remaining),
      },
    });
  });
  if (candidates.length === 0) return { ok: false, rejected };
  candidates.sort((a, b) => {
    if (Math.abs(a.score.similarity - b.score.similarity) > TIE)
      return b.score.similarity - a.score.similarity;
    if (Math.abs(a.score.remaining - b.score.remaining) > TIE) return b.score.remaining - a.score.remaining;
    return a.order - b.order;
  });
  return { ok: true, host: candidates[0]!.host, scores: candidates.map((c) => c.score) };
}
