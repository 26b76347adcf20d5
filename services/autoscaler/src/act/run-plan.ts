// The act step: runs one service's plan, step by step, and reports what happened. It decides
// nothing: a failed step stops the plan (and runs its onAbort steps), a refused sleep stops it
// before anything is removed. Dead replicas that cannot be removed are logged and skipped.
import type { Logger } from '@headroom/shared';
import { type ActOutcome, emptyOutcome, type Plan, type PlanStep } from '../model/plan.js';
import type { ReplicaActor } from './replica-runtime.js';

/** The balancer side of a sleep (act/sleep-announcer.ts). */
export interface Announcer {
  sleeping(reason: string, service?: string): Promise<boolean>;
  awake(reason: string, service?: string): Promise<void>;
}

export async function runPlan(
  plan: Plan,
  actor: ReplicaActor,
  announcer: Announcer | undefined,
  logger: Logger,
): Promise<ActOutcome> {
  const out = emptyOutcome();
  const steps = plan.steps;
  let i = 0;
  for (; i < steps.length; i++) {
    const step = steps[i]!;
    try {
      const stop = await runStep(plan, step, actor, announcer, logger, out);
      if (stop) break;
    } catch (err) {
      out.failed = { step: step.do, detail: describeFailure(step, err) };
      break;
    }
  }
  // Creates that did not run or failed give their booking back (placement's rollBack).
  // (a failed create gave its booking back itself)
  for (let j = out.failed ? i + 1 : i; j < steps.length; j++) {
    const s = steps[j]!;
    if (s.do === 'create') out.notCreatedOn.push(s.host);
  }
  if ((out.failed || plan.shortfall) && !out.sleepRefused) {
    for (const step of plan.onAbort) {
      await runStep(plan, step, actor, announcer, logger, out).catch((err) =>
        logger.warn({ err: (err as Error).message, step: step.do }, 'abort step failed'),
      );
    }
  }
  return out;
}

function describeFailure(step: PlanStep, err: unknown): string {
  const msg = (err as Error).message;
  if (step.do === 'create') return `create on ${step.host}: ${msg}`;
  if (step.do === 'remove') return `remove ${step.replica.name}: ${msg}`;
  return msg;
}

/** Runs one step; true when the plan must stop here without a failure (a refused sleep). */
async function runStep(
  plan: Plan,
  step: PlanStep,
  actor: ReplicaActor,
  announcer: Announcer | undefined,
  logger: Logger,
  out: ActOutcome,
): Promise<boolean> {
  switch (step.do) {
    case 'reap':
      try {
        await actor.remove(step.replica, { drain: false, keep: false });
        out.reaped.push(step.replica.name);
      } catch (err) {
        logger.warn(
          { replica: step.replica.name, err: (err as Error).message },
          'could not remove a dead replica',
        );
      }
      return false;
    case 'adopt':
      try {
        await actor.startKept(step.replica, 'adopt');
        out.adopted.push(step.replica.name);
      } catch (err) {
        logger.warn(
          { replica: step.replica.name, err: (err as Error).message },
          'a replica created but never started could not start: removing it',
        );
        try {
          await actor.remove(step.replica, { drain: false, keep: false });
          out.reaped.push(step.replica.name);
        } catch {
          // the next tick plans it again
        }
      }
      return false;
    case 'announce':
      if (!announcer) return false;
      if (step.state === 'awake') {
        await announcer.awake(step.reason, plan.service);
        return false;
      }
      if (!(await announcer.sleeping(step.reason, plan.service)) && step.required) {
        out.sleepRefused = true;
        return true;
      }
      return false;
    case 'start-kept':
      try {
        out.added.push(await actor.startKept(step.replica));
      } catch (err) {
        if (step.orCreateOn === undefined) throw err;
        logger.warn(
          { replica: step.replica.name, err: (err as Error).message },
          'could not start the kept replica: creating a new one',
        );
        out.added.push(await actor.create(plan.service, step.orCreateOn, plan.template));
      }
      return false;
    case 'create':
      try {
        out.added.push(await actor.create(plan.service, step.host, plan.template));
      } catch (err) {
        out.notCreatedOn.push(step.host);
        throw err;
      }
      return false;
    case 'remove':
      await actor.remove(step.replica, { drain: true, keep: step.keep });
      out.removed.push(step.replica.name);
      return false;
    case 'set-count': {
      if (!actor.setCount) throw new Error(`the ${actor.kind} runtime cannot set a count`);
      const r = await actor.setCount(plan.service, step.count, step.replicas);
      out.added.push(...r.added);
      out.removed.push(...r.removed);
      return false;
    }
  }
}
