// The one engine-watch lifecycle both engine sources share (Docker: docker-source.ts, Swarm:
// swarm-source.ts), as undici's PoolBase owns a pool's lifecycle and each pool only says how
// to connect. The base owns: the initial list, the events stream, re-lists (bursts
// coalesced: one runs, one more is queued), the periodic resync (RESYNC_INTERVAL_MS, the
// safety net for a missed event), reconnecting with backoff when the stream ends or errors or
// a connect fails, the resync after a reconnect, and stop. A source supplies only what
// differs: which events it subscribes to and which of them matter (`eventFilters`,
// `onEvent`), how to list the engine and turn its objects into backends (`list`), and what
// to do with each listing besides publishing its specs (`listed`: sleep scans, follow-ups).
//
// Before this base the two sources each had their own copy of the lifecycle and had drifted
// (issue #24): only Docker reported reachability, and a list that failed right after a
// reconnect left its fresh events stream open (its events kept triggering re-lists next to
// the one the retry opened). Both now behave, and log, the same:
//   warn `<subject> unreachable; keeping last known backends` {why, retryInMs, attempt}: every
//     reconnect scheduled, with its reason (stream ended, stream error, connect or list failed);
//   info `<subject> reachable again; resynced` {after, attempts, downMs, backends}: the resync
//     that ends an outage, naming what started it;
//   info `<subject> resync changed the backends` {reason, backends}: a periodic resync found a
//     change no event announced (a missed event: worth knowing); debug when it found none;
//   warn `<subject> re-list failed` {reason, err}: a re-list failed while the stream is up.
// While the engine is away nothing is published: the last set keeps serving (the health checks
// decide whether its backends still answer).
import type { Logger } from '@headroom/shared';
import type { BackendSet, BackendSource, BackendSpec } from './backend-set.js';
import { backoffMs } from './backoff.js';
import type { EngineApi, EngineFilters } from './engine-api.js';
import { onJsonLines } from './json-lines.js';

/** What a source's list yields: the backends, plus whatever its `listed` hook needs. */
export interface Listing {
  readonly specs: BackendSpec[];
}

/** Why a re-list runs (logged with it). */
export type RelistReason = 'connect' | 'event' | 'follow-up' | 'periodic resync';

export interface EngineWatchOptions {
  /** The periodic resync (RESYNC_INTERVAL_MS). */
  resyncIntervalMs: number;
  /** Told whenever the engine becomes reachable (after a list) or unreachable (with why). */
  onReachability?: ((reachable: boolean, why?: string) => void) | undefined;
  /** The jitter of the reconnect backoff (tests pin it). */
  random?: () => number;
  now?: () => number;
}

type Stream = NodeJS.ReadableStream & { destroy?: () => void };

export abstract class EngineWatch<Event, L extends Listing> implements BackendSource {
  /** The subject of the log lines: `docker engine`, `swarm manager`. */
  protected abstract readonly subject: string;
  /** The events the stream is asked for (the engine's `filters`). */
  protected abstract readonly eventFilters: EngineFilters;
  /** Whether an event can change the set (a re-list follows); may act on it too. */
  protected abstract onEvent(event: Event): boolean;
  /** One list of the engine: its objects turned into backends (sorted: the set is compared whole). */
  protected abstract list(): Promise<L>;
  /** After each list, once its specs are published (when they changed). */
  protected listed(_listing: L): void {}
  /** Before the events stream is opened, on every (re)connect; a throw counts as a failed connect. */
  protected async beforeConnect(): Promise<void> {}

  private publish: ((set: BackendSet) => void) | undefined;
  private last: BackendSet | undefined;
  private lastKey: string | undefined;
  private stopped = false;
  private events: Stream | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private followTimer: NodeJS.Timeout | undefined;
  /** The re-list running now, which queued requests join. */
  private running: Promise<void> | undefined;
  private pending = false;
  private pendingReason: RelistReason = 'event';
  private attempt = 0;
  /** The outage in progress: what started it and when. */
  private outage: { why: string; since: number } | undefined;
  private readonly random: () => number;
  protected readonly now: () => number;

  constructor(
    protected readonly engine: EngineApi,
    protected readonly logger: Logger,
    private readonly watch: EngineWatchOptions,
  ) {
    this.random = watch.random ?? Math.random;
    this.now = watch.now ?? Date.now;
  }

  /** The last set this engine published (kept while it is unreachable). */
  lastSet(): BackendSet {
    return this.last ?? [];
  }

  /** Resolves once the first set is published, or the first connect failed (a retry is then scheduled). */
  async start(publish: (set: BackendSet) => void): Promise<void> {
    this.publish = publish;
    await this.connect();
    if (this.stopped) return;
    this.resyncTimer = setInterval(() => this.requestRelist('periodic resync'), this.watch.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.followTimer);
    const stream = this.events;
    this.events = undefined;
    stream?.destroy?.();
  }

  /** A source's follow-up: one more re-list in `delayMs` (replaces the one scheduled before). */
  protected relistAfter(delayMs: number | undefined): void {
    clearTimeout(this.followTimer);
    if (delayMs === undefined || this.stopped) return;
    this.followTimer = setTimeout(() => this.requestRelist('follow-up'), delayMs);
    this.followTimer.unref();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: Stream | undefined;
    try {
      await this.beforeConnect();
      stream = (await this.engine.getEvents({ filters: this.eventFilters })) as Stream;
      if (this.stopped) {
        stream.destroy?.();
        return;
      }
      const opened = stream;
      this.events = opened;
      onJsonLines<Event>(opened, (ev) => {
        if (this.events === opened && this.onEvent(ev)) this.requestRelist('event');
      });
      const lost = (why: string) => {
        if (this.events !== opened) return;
        this.events = undefined;
        this.scheduleReconnect(why);
      };
      opened.on('end', () => lost('events stream ended'));
      opened.on('error', (err: Error) => lost(`events stream error: ${err.message}`));
      await this.relist('connect');
      if (this.stopped) return;
      if (this.outage !== undefined) {
        this.logger.info(
          {
            after: this.outage.why,
            attempts: this.attempt,
            downMs: this.now() - this.outage.since,
            backends: this.lastSet().length,
          },
          `${this.subject} reachable again; resynced`,
        );
      }
      this.outage = undefined;
      this.attempt = 0;
      this.watch.onReachability?.(true);
    } catch (err) {
      // a stream opened before the list failed is this attempt's: the retry opens its own
      if (stream !== undefined && this.events === stream) this.events = undefined;
      stream?.destroy?.();
      this.scheduleReconnect(
        `${stream === undefined ? 'connect' : 'list'} failed: ${(err as Error).message}`,
      );
    }
  }

  private scheduleReconnect(why: string): void {
    if (this.stopped) return;
    this.outage ??= { why, since: this.now() };
    const delay = backoffMs(this.attempt++, this.random());
    this.watch.onReachability?.(false, why);
    this.logger.warn(
      { why, retryInMs: delay, attempt: this.attempt },
      `${this.subject} unreachable; keeping last known backends`,
    );
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
    this.reconnectTimer.unref();
  }

  private requestRelist(reason: RelistReason): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.pending = true;
      this.pendingReason = reason;
      return;
    }
    this.relist(reason).catch((err: Error) => {
      // without a stream the reconnect reports the engine's state
      if (this.events === undefined || this.stopped) return;
      this.logger.warn({ reason, err: err.message }, `${this.subject} re-list failed`);
    });
  }

  /** Lists now, or joins the re-list running (which then lists once more when it is done). */
  private relist(reason: RelistReason): Promise<void> {
    if (this.running !== undefined) {
      this.pending = true;
      this.pendingReason = reason;
      return this.running;
    }
    const run = (async () => {
      let why = reason;
      try {
        do {
          this.pending = false;
          const listing = await this.list();
          if (this.stopped) return;
          this.take(listing, why);
          why = this.pendingReason;
        } while (this.pending && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }

  private take(listing: L, reason: RelistReason): void {
    const key = JSON.stringify(listing.specs);
    const changed = key !== this.lastKey;
    if (changed) {
      this.lastKey = key;
      this.last = listing.specs;
      this.publish?.(listing.specs);
    }
    if (reason === 'periodic resync') {
      if (changed)
        this.logger.info(
          { reason, backends: listing.specs.length },
          `${this.subject} resync changed the backends`,
        );
      else this.logger.debug({ reason }, `${this.subject} resync: no change`);
    }
    // after the set: a started container is a backend before a scan says it runs
    this.listed(listing);
  }
}
