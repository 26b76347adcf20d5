// The engine-watch lifecycle (engine-watch.ts) Docker and Swarm discovery share, as a table of
// faults. The engine here is a fake, for fault injection only (an events stream that ends or
// errors on cue, a list or connect that fails N times): the real engine is driven by
// test/docker-discovery.test.ts, test/docker-engine-outage.test.ts and the deploy-tests e2e
// (chaos-dockerd-restart, swarm-stack, multi-node-*). Each row: the steps after a first
// successful start, then what was published, how often the events stream was opened, the
// log lines (info and warn, in order) and the reachability reported.
import { PassThrough } from 'node:stream';
import type { Logger } from '@headroom/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendSpec } from './backend-set.js';
import type { EngineApi } from './engine-api.js';
import { EngineWatch, type Listing } from './engine-watch.js';

const spec = (id: string): BackendSpec => ({
  id,
  url: `http://10.0.0.1:${id.length}`,
  name: id,
  service: 'web',
  source: 'docker',
  sticky: { kind: 'none' },
});

/** The engine, as far as the lifecycle sees it; every fault is set by a step. */
class FakeEngine {
  readonly streams: PassThrough[] = [];
  opened = 0;
  lists = 0;
  connectFailures = 0;
  listFailures = 0;
  listDelayMs = 0;
  /** getEvents waits for this before answering (a stop while connecting). */
  connectGate: Promise<void> | undefined;
  specs: BackendSpec[] = [spec('a')];

  readonly getEvents = async (): Promise<NodeJS.ReadableStream> => {
    this.opened++;
    if (this.connectGate) await this.connectGate;
    if (this.connectFailures > 0) {
      this.connectFailures--;
      throw new Error('connect ECONNREFUSED /var/run/docker.sock');
    }
    const s = new PassThrough();
    this.streams.push(s);
    return s;
  };

  async list(): Promise<Listing> {
    this.lists++;
    if (this.listDelayMs > 0) await new Promise((r) => setTimeout(r, this.listDelayMs));
    if (this.listFailures > 0) {
      this.listFailures--;
      throw new Error('(HTTP 500) engine busy');
    }
    return { specs: [...this.specs] };
  }

  get stream(): PassThrough {
    return this.streams.at(-1)!;
  }
}

interface Ev {
  Action: string;
}

class FakeWatch extends EngineWatch<Ev, Listing> {
  protected readonly subject = 'fake engine';
  protected readonly eventFilters = { type: ['container'] };
  constructor(
    private readonly fake: FakeEngine,
    logger: Logger,
    onReachability: (reachable: boolean, why?: string) => void,
  ) {
    super(fake as unknown as EngineApi, logger, {
      resyncIntervalMs: 10_000,
      random: () => 0,
      onReachability,
    });
  }
  protected onEvent(ev: Ev): boolean {
    return ev.Action === 'start';
  }
  protected list(): Promise<Listing> {
    return this.fake.list();
  }
}

interface Line {
  level: 'info' | 'warn';
  msg: string;
  fields: Record<string, unknown>;
}

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: Line['level']) =>
    (fields: Record<string, unknown>, msg: string): void => {
      lines.push({ level, msg, fields });
    };
  return { info: at('info'), warn: at('warn'), debug: () => undefined } as unknown as Logger;
}

type Step =
  | { end: true }
  | { error: string }
  | { event: string }
  | { set: string[] }
  | { connectFailures: number }
  | { listFailures: number }
  | { listDelayMs: number }
  | { waitMs: number }
  | { stop: true };

interface Row {
  name: string;
  steps: Step[];
  /** The sets published after the first one ([a]), by id. */
  published: string[][];
  /** Events streams opened after the first. */
  reopened: number;
  /** Lists after the first. */
  lists?: number;
  /** info/warn lines after the start, [level, message, fields it must have]. */
  logs: Array<[Line['level'], string, Record<string, unknown>?]>;
  /** Reachability reported after the start (the start's own `true` left out). */
  reachability?: Array<boolean>;
  /** Every events stream but the current one destroyed. */
  staleStreamsClosed?: boolean;
}

const UNREACHABLE = 'fake engine unreachable; keeping last known backends';
const RESYNCED = 'fake engine reachable again; resynced';

// backoff with the jitter pinned to 0: 125 ms, 250 ms, 500 ms, … (backoff.ts)
const ROWS: Row[] = [
  {
    name: 'the stream ends: reconnect after the backoff, resync, each logged with its reason',
    steps: [{ set: ['b'] }, { end: true }, { waitMs: 124 }, { waitMs: 1 }],
    published: [['b']],
    reopened: 1,
    logs: [
      ['warn', UNREACHABLE, { why: 'events stream ended', retryInMs: 125, attempt: 1 }],
      ['info', RESYNCED, { after: 'events stream ended', attempts: 1, backends: 1 }],
    ],
    reachability: [false, true],
  },
  {
    name: 'the stream errors: the same, with the error as the reason',
    steps: [{ set: ['a', 'c'] }, { error: 'socket hang up' }, { waitMs: 125 }],
    published: [['a', 'c']],
    reopened: 1,
    logs: [
      ['warn', UNREACHABLE, { why: 'events stream error: socket hang up', retryInMs: 125 }],
      ['info', RESYNCED, { after: 'events stream error: socket hang up', attempts: 1 }],
    ],
    reachability: [false, true],
  },
  {
    name: 'the list fails after a reconnect, then succeeds: backoff grows, one resync, the failed attempt’s stream closed',
    steps: [{ set: ['b'] }, { listFailures: 1 }, { end: true }, { waitMs: 125 }, { waitMs: 250 }],
    published: [['b']],
    reopened: 2,
    logs: [
      ['warn', UNREACHABLE, { why: 'events stream ended', retryInMs: 125, attempt: 1 }],
      ['warn', UNREACHABLE, { why: 'list failed: (HTTP 500) engine busy', retryInMs: 250, attempt: 2 }],
      ['info', RESYNCED, { after: 'events stream ended', attempts: 2 }],
    ],
    reachability: [false, false, true],
    staleStreamsClosed: true,
  },
  {
    name: 'connect refused twice: nothing published meanwhile, the last set kept, then a resync',
    steps: [{ set: [] }, { connectFailures: 2 }, { end: true }, { waitMs: 125 + 250 }, { waitMs: 500 }],
    published: [[]],
    reopened: 3,
    logs: [
      ['warn', UNREACHABLE, { why: 'events stream ended', attempt: 1 }],
      ['warn', UNREACHABLE, { why: 'connect failed: connect ECONNREFUSED /var/run/docker.sock', attempt: 2 }],
      ['warn', UNREACHABLE, { why: 'connect failed: connect ECONNREFUSED /var/run/docker.sock', attempt: 3 }],
      ['info', RESYNCED, { after: 'events stream ended', attempts: 3, backends: 0 }],
    ],
  },
  {
    name: 'stop during the backoff: no reconnect, nothing published, ever',
    steps: [{ set: ['b'] }, { end: true }, { stop: true }, { waitMs: 60_000 }],
    published: [],
    reopened: 0,
    lists: 0,
    logs: [['warn', UNREACHABLE, { why: 'events stream ended' }]],
  },
  {
    name: 'stop while a list runs: its result is not published',
    steps: [{ listDelayMs: 100 }, { set: ['b'] }, { event: 'start' }, { stop: true }, { waitMs: 200 }],
    published: [],
    reopened: 0,
    lists: 1,
    logs: [],
  },
  {
    name: 'an event that matters re-lists; one that does not, does not',
    steps: [{ set: ['b'] }, { event: 'exec_start' }, { event: 'start' }],
    published: [['b']],
    reopened: 0,
    lists: 1,
    logs: [],
  },
  {
    name: 'a burst of events while a list runs: one more list, not one per event',
    steps: [
      { listDelayMs: 100 },
      { event: 'start' },
      { set: ['b'] },
      { event: 'start' },
      { event: 'start' },
      { event: 'start' },
      { waitMs: 250 },
    ],
    published: [['b']],
    reopened: 0,
    lists: 2,
    logs: [],
  },
  {
    name: 'the periodic resync finds a change no event announced: published, logged with its reason',
    steps: [{ set: ['a', 'z'] }, { waitMs: 10_000 }, { waitMs: 10_000 }],
    published: [['a', 'z']],
    reopened: 0,
    lists: 2,
    logs: [['info', 'fake engine resync changed the backends', { reason: 'periodic resync', backends: 2 }]],
  },
  {
    name: 'the periodic resync fails while the stream is up: a warning with the reason, the set kept',
    steps: [{ listFailures: 1 }, { waitMs: 10_000 }],
    published: [],
    reopened: 0,
    lists: 1,
    logs: [
      ['warn', 'fake engine re-list failed', { reason: 'periodic resync', err: '(HTTP 500) engine busy' }],
    ],
  },
  {
    name: 'an ended stream’s late events start nothing; the reconnected one’s do',
    steps: [{ end: true }, { waitMs: 125 }, { set: ['b'] }, { event: 'start' }],
    published: [['b']],
    reopened: 1,
    lists: 2,
    logs: [
      ['warn', UNREACHABLE, { why: 'events stream ended' }],
      ['info', RESYNCED, { after: 'events stream ended' }],
    ],
  },
];

/** Lets stream events (process.nextTick) and promise chains run: setImmediate is not faked. */
const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('engine-watch lifecycle (fault injection table)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const fake = new FakeEngine();
    const lines: Line[] = [];
    const reach: boolean[] = [];
    const published: string[][] = [];
    const watch = new FakeWatch(fake, recordingLogger(lines), (r) => reach.push(r));
    await watch.start((set) => published.push(set.map((s) => s.id)));
    expect(published).toEqual([['a']]);
    expect(reach).toEqual([true]);
    reach.length = 0;
    published.length = 0;
    const listsAtStart = fake.lists;
    // an ended stream kept, to send a late event on it
    let ended: PassThrough | undefined;
    for (const step of row.steps) {
      if ('end' in step) {
        ended = fake.stream;
        fake.stream.end();
      } else if ('error' in step) fake.stream.destroy(new Error(step.error));
      else if ('event' in step) {
        const line = `${JSON.stringify({ Action: step.event })}\n`;
        // after a reconnect: the same event on the ended stream first, which must be ignored
        if (ended !== undefined && ended !== fake.stream) ended.emit('data', Buffer.from(line));
        fake.stream.write(line);
      } else if ('set' in step) fake.specs = step.set.map(spec);
      else if ('connectFailures' in step) fake.connectFailures = step.connectFailures;
      else if ('listFailures' in step) fake.listFailures = step.listFailures;
      else if ('listDelayMs' in step) fake.listDelayMs = step.listDelayMs;
      else if ('waitMs' in step) await vi.advanceTimersByTimeAsync(step.waitMs);
      else await watch.stop();
      await flush();
    }
    await watch.stop();
    expect(published).toEqual(row.published);
    expect(fake.opened - 1).toBe(row.reopened);
    if (row.lists !== undefined) expect(fake.lists - listsAtStart).toBe(row.lists);
    expect(lines.map((l) => [l.level, l.msg])).toEqual(row.logs.map(([level, msg]) => [level, msg]));
    row.logs.forEach(([, , fields], i) => {
      expect(lines[i]!.fields).toMatchObject(fields ?? {});
    });
    if (row.reachability !== undefined) expect(reach).toEqual(row.reachability);
    if (row.staleStreamsClosed)
      for (const s of fake.streams.slice(0, -1)) expect(s.destroyed || s.readableEnded).toBe(true);
    // what was published last is what the source keeps serving
    expect(watch.lastSet().map((s) => s.id)).toEqual(published.at(-1) ?? ['a']);
  });

  it('a stop while the events stream is being opened closes it when it comes, and lists nothing', async () => {
    const fake = new FakeEngine();
    let open!: () => void;
    fake.connectGate = new Promise<void>((r) => {
      open = r;
    });
    const watch = new FakeWatch(fake, recordingLogger([]), () => undefined);
    const started = watch.start(() => undefined);
    await flush();
    await watch.stop();
    open();
    await started;
    expect(fake.streams).toHaveLength(1);
    expect(fake.stream.destroyed).toBe(true);
    expect(fake.lists).toBe(0);
  });
});
