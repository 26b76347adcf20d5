// Headroom score of one backend from its CPU and memory use (fractions of its limits):
// 1 = idle, → 0 = saturated. Default weights 0.8 CPU / 0.2 memory, as in the design this
// project grew from. Floored so a saturated backend still has a finite cost (it must not
// divide by zero, and it should still be chosen when it is the only one with free slots).
export const MIN_SCORE = 0.05;

export function headroomScore(
  cpu: number | null,
  mem: number | null,
  cpuWeight: number,
  memoryWeight: number,
): number | null {
  let sum = 0;
  let weights = 0;
  if (cpu !== null && Number.isFinite(cpu)) {
    sum += cpuWeight * (1 - Math.min(1, Math.max(0, cpu)));
    weights += cpuWeight;
  }
  if (mem !== null && Number.isFinite(mem)) {
    sum += memoryWeight * (1 - Math.min(1, Math.max(0, mem)));
    weights += memoryWeight;
  }
  if (weights === 0) return null;
  return Math.max(MIN_SCORE, sum / weights);
}
