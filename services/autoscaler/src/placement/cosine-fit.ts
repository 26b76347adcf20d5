// Direction fit: cosine similarity between what a host has left (as fractions of what it
// can give) and what the replica asks (as fractions of the same). A host whose free room has
// the replica's shape is used up evenly instead of stranding one resource.
import { cpuTaken, type HostState, type PlacementSettings, type ReplicaRequest } from './host-state.js';

export interface FitVectors {
  remaining: number[];
  request: number[];
}

function ratio(part: number, whole: number): number {
  return whole > 0 ? Math.max(0, part / whole) : 0;
}

export function fitVectors(host: HostState, req: ReplicaRequest, s: PlacementSettings): FitVectors {
  const cpuRoom = host.cpuCapacity * s.cpuOvercommit;
  const memRoom = host.memoryCapacity - s.memoryReserve;
  const remaining = [ratio(cpuRoom - cpuTaken(host), cpuRoom), ratio(memRoom - host.memoryBooked, memRoom)];
  const request = [ratio(req.cpu, cpuRoom), ratio(req.memory, memRoom)];
  if (host.diskCapacity !== undefined && host.diskUsed !== undefined && req.disk !== undefined) {
    const diskRoom = host.diskCapacity - s.diskReserve;
    remaining.push(ratio(diskRoom - host.diskUsed, diskRoom));
    request.push(ratio(req.disk, diskRoom));
  }
  return { remaining, request };
}

export function magnitude(v: readonly number[]): number {
  let sum = 0;
  for (const x of v) sum += x * x;
  return Math.sqrt(sum);
}

/**
 * Cosine of the angle between a and b; 0 when either is the zero vector (no direction to
 * match). Each vector is scaled by its largest component first: the cosine does not change,
 * and squares of tiny (subnormal) components no longer underflow into a magnitude that
 * disagrees with the dot product (fast-check found 1 + 1e-9 that way). Clamped to [-1, 1]
 * against the last rounding.
 */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  const sa = maxAbs(a);
  const sb = maxAbs(b);
  if (sa === 0 || sb === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) na += ((a[i] ?? 0) / sa) ** 2;
  for (let i = 0; i < b.length; i++) nb += ((b[i] ?? 0) / sb) ** 2;
  for (let i = 0; i < a.length && i < b.length; i++) dot += ((a[i] ?? 0) / sa) * ((b[i] ?? 0) / sb);
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

function maxAbs(v: readonly number[]): number {
  let m = 0;
  for (const x of v) if (Math.abs(x) > m) m = Math.abs(x);
  return m;
}
