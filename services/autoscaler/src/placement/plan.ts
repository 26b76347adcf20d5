// The plan step between decide and act: given this tick's observation of the hosts (one
// HostState per engine, unreachable ones included), what a new replica asks for and how many
// to add, a host for each new replica, or why not. Pure and table-tested (plan.test.ts), so
// the act layer only carries a plan out. Placement applies with one engine too: a single host
// still has CPU × CPU_OVERCOMMIT, memory minus MEMORY_RESERVE_MB and disk minus DISK_RESERVE_MB.

import { chooseHost } from './choose-host.js';
import { nextCreateAt, recentDeaths } from './crash-backoff.js';
import type { RejectReason } from './host-filter.js';
import { book, type HostState, type PlacementSettings, type ReplicaRequest } from './host-state.js';

export interface ScaleOutInput {
  /** Replicas to add. */
  count: number;
  hosts: readonly HostState[];
  /** What one new replica asks for; undefined when there is nothing to copy it from. */
  request: ReplicaRequest | undefined;
  settings: PlacementSettings;
  /** When owned replicas were found dead (crash-loop backoff). */
  deaths: readonly number[];
  now: number;
}

export type ScaleOutPlan =
  | {
      kind: 'place';
      /** The host of each new replica, in creation order (bookings of earlier ones counted). */
      hosts: string[];
      /** Set when fewer than `count` fit: why every host refused the next one. */
      exhausted?: { id: string; reason: RejectReason }[] | undefined;
    }
  | { kind: 'backoff'; until: number; deaths: number }
  | { kind: 'no-template' };

/** The crash-loop pause in force now, if any. */
export function creationBackoff(
  deaths: readonly number[],
  now: number,
): Extract<ScaleOutPlan, { kind: 'backoff' }> | undefined {
  const notBefore = nextCreateAt(deaths, now);
  return notBefore > now
    ? { kind: 'backoff', until: notBefore, deaths: recentDeaths(deaths, now).length }
    : undefined;
}

export function planScaleOut(input: ScaleOutInput): ScaleOutPlan {
  const backoff = creationBackoff(input.deaths, input.now);
  if (backoff) return backoff;
  if (!input.request) return { kind: 'no-template' };
  return placeReplicas(input.hosts, input.request, input.count, input.settings);
}

/** A host per new replica, booking each placement before the next; stops at the first that fits nowhere. */
export function placeReplicas(
  start: readonly HostState[],
  request: ReplicaRequest,
  count: number,
  settings: PlacementSettings,
): Extract<ScaleOutPlan, { kind: 'place' }> {
  let hosts = [...start];
  const placed: string[] = [];
  for (let i = 0; i < count; i++) {
    const choice = chooseHost(hosts, request, settings);
    if (!choice.ok) return { kind: 'place', hosts: placed, exhausted: choice.rejected };
    placed.push(choice.host.id);
    hosts = hosts.map((h) => (h.id === choice.host.id ? book(h, request) : h));
  }
  return { kind: 'place', hosts: placed };
}

/** One line for the decision and the log: which host refused and why. */
export function exhaustedDetail(rejected: readonly { id: string; reason: RejectReason }[]): string {
  return rejected.map((r) => `${r.id}: ${r.reason}`).join(', ');
}
