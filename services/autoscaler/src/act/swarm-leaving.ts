// Pure: which tasks a Swarm scale-down from N to `desired` removes, so the autoscaler can drain
// exactly those at the balancer before it lowers the count (Swarm has no call to remove a given
// task). The rule is SwarmKit's replicated orchestrator's (moby/swarmkit,
// manager/orchestrator/replicated/services.go, `reconcile`, the scale-down case), restated:
//  1. running tasks before the others, and among equals the lower slot first;
//  2. each task numbered as the nth copy of the service on its node, in that order (a task
//     with no node yet gets no number and sorts last);
//  3. sorted by that number; the tasks past the first `desired` are removed.
// So a scale-down takes the highest copies on the busiest node first, and, among tasks with the
// same copy number, the higher slot. Step 3 is Go's sort.Sort, which is not stable in general:
// since Go 1.19 it is an insertion sort (stable) up to 12 elements; before, up to 6 (a gap-6
// Shell pass comes first from 7). Past that, ties among equal copy numbers may fall either
// way. Checked against the real engine by swarm-drain.test.ts; the runtime also checks every
// prediction after the update (a drained task that stayed is taken back, a task that left
// unpredicted is drained at once).

export interface SwarmTaskPlace {
  id: string;
  slot: number;
  /** Node id; undefined while the task is not yet assigned. */
  node: string | undefined;
  running: boolean;
}

export function swarmLeavingTasks(tasks: readonly SwarmTaskPlace[], desired: number): SwarmTaskPlace[] {
  if (desired >= tasks.length) return [];
  const ordered = [...tasks].sort((a, b) =>
    a.running !== b.running ? (a.running ? -1 : 1) : a.slot - b.slot,
  );
  const copies = new Map<string, number>();
  const indexed = ordered.map((t) => {
    if (t.node === undefined || t.node === '') return { t, index: -1 };
    const n = (copies.get(t.node) ?? 0) + 1;
    copies.set(t.node, n);
    return { t, index: n };
  });
  // stable (Array.prototype.sort is), as Go's insertion sort is for small services
  indexed.sort((a, b) => {
    if (a.index < 0 !== b.index < 0) return a.index < 0 ? 1 : -1;
    return a.index - b.index;
  });
  return indexed.slice(Math.max(0, desired)).map((x) => x.t);
}
