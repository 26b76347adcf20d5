// The plan step: one service's intent + its replicas + the hosts' capacity (a ledger shared by
// every service of the tick) + the crash backoff → the steps act runs, and the ledger with this
// plan's new replicas booked. Pure, and the same for the Docker and the local runtime (the
// local host is one host of `LOCAL_CPU_QUOTA` per replica); Swarm places its own tasks.
import type { Plan, PlanStep, Shortfall } from '../model/plan.js';
import type { ReplicaRecord } from '../model/replica.js';
import type { ReplicaTemplate } from '../model/replica-template.js';
import type { Intent } from '../policy/decide-tick.js';
import { recentDeaths } from './crash-backoff.js';
import { book, type HostState, type PlacementSettings, type ReplicaRequest, unbook } from './host-state.js';
import { localCapacityShortfall } from './local-host.js';
import { creationBackoff, exhaustedDetail, placeReplicas } from './plan.js';
import { deadReplicas, keptContainer, pickVictims, strandedReplicas } from './victims.js';

export interface PlanInput {
  service: string;
  runtime: 'docker' | 'swarm' | 'local';
  intent: Intent;
  /** The decision's message: the balancer is told it with a sleep. */
  why: string;
  replicas: readonly ReplicaRecord[];
  template?: ReplicaTemplate | undefined;
  request?: ReplicaRequest | undefined;
  /** The tick's ledger: every host, with the replicas planned so far this tick booked. */
  hosts: readonly HostState[];
  settings: PlacementSettings;
  /** Crash backoff: when owned replicas of this service were found dead. */
  deaths: readonly number[];
  now: number;
  /** Docker with scale to zero: a sleep keeps the last container stopped, for a fast wake. */
  keepOneOnSleep: boolean;
  /** Decide and record only: no step at all, not even a reap. */
  dryRun: boolean;
}

export interface PlanResult {
  plan: Plan;
  /** The ledger after this plan's bookings. */
  hosts: HostState[];
  /** The crash-backoff deaths to keep, this tick's included. */
  deaths: number[];
}

export function planService(input: PlanInput): PlanResult {
  const { service, now } = input;
  const plan: Plan = { service, steps: [], onAbort: [], template: input.template };
  let hosts = [...input.hosts];
  let deaths = recentDeaths(input.deaths, now);
  if (input.dryRun) return { plan, hosts, deaths };

  if (input.runtime !== 'swarm') {
    for (const r of strandedReplicas(input.replicas)) plan.steps.push({ do: 'adopt', replica: r });
    const dead = deadReplicas(input.replicas, input.keepOneOnSleep);
    for (const r of dead) plan.steps.push({ do: 'reap', replica: r });
    if (dead.length > 0) deaths = [...deaths, ...dead.map(() => now)];
  }
  const replicas = input.replicas.filter((r) => r.state !== 'exited');
  const intent = input.intent;

  if (intent.kind === 'announce-asleep') {
    plan.steps.push({
      do: 'announce',
      state: 'sleeping',
      reason: `still asleep: ${input.why}`,
      required: false,
    });
  } else if (intent.kind === 'sleep') {
    plan.steps.push({ do: 'announce', state: 'sleeping', reason: input.why, required: true });
    if (input.runtime === 'swarm') plan.steps.push({ do: 'set-count', count: 0, replicas });
    else {
      const victims = pickVictims(replicas, replicas.length);
      // The lowest n goes last and is kept stopped (Docker), so a wake only starts it.
      const keep = input.keepOneOnSleep && victims.length === replicas.length ? victims.at(-1) : undefined;
      for (const v of victims) plan.steps.push({ do: 'remove', replica: v, keep: v === keep });
      plan.shortfall = removeShortfall(input, replicas.length, victims.length);
    }
    plan.onAbort.push({
      do: 'announce',
      state: 'awake',
      reason: `sleep aborted: ${input.why}`,
      required: false,
    });
  } else if (intent.kind === 'scale') {
    if (input.runtime === 'swarm') plan.steps.push({ do: 'set-count', count: intent.desired, replicas });
    else if (intent.desired > replicas.length) {
      const placed = planAdd(input, intent.desired - replicas.length, hosts, deaths);
      plan.steps.push(...placed.steps);
      plan.shortfall = placed.shortfall;
      hosts = placed.hosts;
    } else if (intent.desired < replicas.length) {
      const count = replicas.length - intent.desired;
      const victims = pickVictims(replicas, count);
      for (const v of victims) plan.steps.push({ do: 'remove', replica: v, keep: false });
      plan.shortfall = removeShortfall(input, count, victims.length);
    }
  }
  return { plan, hosts, deaths };
}

function removeShortfall(input: PlanInput, wanted: number, found: number): Shortfall | undefined {
  if (found >= wanted) return undefined;
  return {
    reason: 'NothingToRemove',
    detail:
      input.runtime === 'local'
        ? 'the other replicas are not children of this autoscaler'
        : `${wanted} to remove but only ${found} replica(s) of "${input.service}" are owned by this autoscaler`,
  };
}

function planAdd(
  input: PlanInput,
  count: number,
  start: HostState[],
  deaths: readonly number[],
): { steps: PlanStep[]; shortfall?: Shortfall | undefined; hosts: HostState[] } {
  const steps: PlanStep[] = [];
  let missing = count;
  // A wake: the container a sleep kept starts far faster than a new one is created.
  const kept = input.keepOneOnSleep ? keptContainer(input.replicas) : undefined;
  if (kept) {
    const fallback = input.request
      ? placeReplicas(start, input.request, 1, input.settings).hosts[0]
      : undefined;
    steps.push({ do: 'start-kept', replica: kept, orCreateOn: fallback });
    missing--;
  }
  if (missing <= 0) return { steps, hosts: start };
  const backoff = creationBackoff(deaths, input.now);
  if (backoff) {
    return {
      steps,
      hosts: start,
      shortfall: {
        reason: 'ScaleFailed',
        detail: `${backoff.deaths} replicas died in the last 5 minutes: next start in ${Math.ceil((backoff.until - input.now) / 1000)} s`,
      },
    };
  }
  if (!input.request || (input.runtime === 'docker' && !input.template)) {
    return {
      steps,
      hosts: start,
      shortfall: {
        reason: 'ScaleFailed',
        detail: `no running replica of "${input.service}" to copy and REPLICA_IMAGE is not set`,
      },
    };
  }
  const placed = placeReplicas(start, input.request, missing, input.settings);
  let hosts = start;
  for (const h of placed.hosts) {
    steps.push({ do: 'create', host: h });
    const req = input.request;
    hosts = hosts.map((x) => (x.id === h ? book(x, req) : x));
  }
  if (!placed.exhausted) return { steps, hosts };
  const local = input.runtime === 'local' ? hosts.find((h) => h.id === 'local') : undefined;
  const detail = local
    ? (localCapacityShortfall(
        local.cpuCapacity,
        Math.round(local.cpuBooked / input.request.cpu),
        input.request.cpu,
        input.settings.cpuOvercommit,
      ) ?? exhaustedDetail(placed.exhausted))
    : exhaustedDetail(placed.exhausted);
  return { steps, hosts, shortfall: { reason: 'HostCapacityExhausted', detail } };
}

/**
 * The ledger after act: the bookings of replicas that were planned but not started (a create
 * failed, or the plan stopped before it) are taken back, so the services planned after this one
 * in the same tick can use the room.
 */
export function rollBack(
  hosts: readonly HostState[],
  notCreatedOn: readonly string[],
  request: ReplicaRequest | undefined,
): HostState[] {
  if (!request || notCreatedOn.length === 0) return [...hosts];
  let out = [...hosts];
  for (const id of notCreatedOn) out = out.map((h) => (h.id === id ? unbook(h, request) : h));
  return out;
}
