// The certificates of TLS_CERT_DIR, loaded and kept current: the I/O half of TLS. Reads
// the directory, turns each <name>.crt + <name>.key pair into a SecureContext, and swaps
// one immutable table (cert-table.ts) when something changed. Handshakes in progress and
// open connections keep the context they got; only new handshakes see the new table.
//
// A pair that cannot be loaded (unreadable, not PEM, a key that does not belong to the
// certificate, one half missing) never replaces a working one: the previous certificate
// of that pair stays in use and the file is named in an error log. Certificates are
// usually written as two files (certbot, cp, an editor), so the first failure of a pair
// is not logged at once: the directory is read again after SETTLE_MS, and only a pair
// still broken then is an error.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { LB_METRICS, type Logger } from '@headroom/shared';
import { Counter, Gauge, type Registry } from 'prom-client';
import { certificateNames } from './cert-names.js';
import {
  buildCertTable,
  type CertEntry,
  type CertTable,
  planPairs,
  selectCertificate,
} from './cert-table.js';

/** TLS 1.0 and 1.1 are deprecated (RFC 8996): every context refuses them. */
export const TLS_MIN_VERSION = 'TLSv1.2';

export interface LoadedPair {
  context: SecureContext;
  /** The PEM text, for server.setSecureContext (which takes options, not a context). */
  cert: Buffer;
  key: Buffer;
  notAfter: Date;
}

export interface CertStoreSettings {
  dir: string;
  /** Quiet time after a change in the directory before it is read (several files written in a row). */
  debounceMs?: number;
  /** A pair that fails is read again after this long before the failure is an error. */
  settleMs?: number;
  /** A re-read on a timer, for mounts where change events do not arrive (some network and overlay file systems). */
  pollMs?: number;
}

export class CertStore {
  private table: CertTable<LoadedPair> = buildCertTable([]);
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  /** Failures seen once and not logged yet (pair → what failed), waiting to settle. */
  private unsettled = new Map<string, string>();
  /** Failures already logged, so a poll does not repeat them. */
  private reported = new Map<string, string>();
  private readonly debounceMs: number;
  private readonly settleMs: number;
  private readonly pollMs: number;
  private readonly errors: Counter | undefined;
  /** Called after a reload changed the table (the TLS server swaps its default context). */
  onChange: ((table: CertTable<LoadedPair>) => void) | undefined;

  constructor(
    private readonly settings: CertStoreSettings,
    private readonly logger: Logger,
    registry?: Registry,
  ) {
    this.debounceMs = settings.debounceMs ?? 300;
    this.settleMs = settings.settleMs ?? 1000;
    this.pollMs = settings.pollMs ?? 10_000;
    if (registry) this.errors = certMetrics(registry, this);
  }

  get current(): CertTable<LoadedPair> {
    return this.table;
  }

  /** The certificate for an SNI name (undefined: no SNI), or undefined when none is loaded. */
  select(servername: string | undefined): CertEntry<LoadedPair> | undefined {
    return selectCertificate(this.table, servername);
  }

  /** Reads the directory once, then watches it. Throws when the directory cannot be listed at all. */
  async start(): Promise<void> {
    await readdir(this.settings.dir); // a missing directory is a start error, not a warning
    await this.reload();
    try {
      this.watcher = watch(this.settings.dir, () => this.changed());
      this.watcher.on('error', (err) =>
        this.logger.warn({ err, dir: this.settings.dir }, 'TLS_CERT_DIR watch failed; polling only'),
      );
    } catch (err) {
      this.logger.warn({ err, dir: this.settings.dir }, 'TLS_CERT_DIR cannot be watched; polling only');
    }
    this.poll = setInterval(() => void this.reload(), this.pollMs);
    this.poll.unref();
  }

  stop(): void {
    this.watcher?.close();
    clearTimeout(this.timer);
    clearInterval(this.poll);
  }

  private changed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), this.debounceMs);
    this.timer.unref();
  }

  /** Reads the directory and swaps the table if anything changed. One read at a time; a change meanwhile reads again. */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          await this.read();
        } catch (err) {
          this.logger.error(
            { err, dir: this.settings.dir },
            'TLS_CERT_DIR could not be read; the certificates in use stay',
          );
        }
      } while (this.again);
      this.loading = undefined;
    })();
    return this.loading;
  }

  private async read(): Promise<void> {
    const dir = this.settings.dir;
    const plan = planPairs(await readdir(dir));
    const previous = new Map(this.table.entries.map((e) => [e.file, e]));
    const next: CertEntry<LoadedPair>[] = [];
    const failures = new Map<string, { file: string; reason: string }>();
    for (const { name, crt, key } of plan.pairs) {
      const old = previous.get(name);
      try {
        const [certPem, keyPem] = await Promise.all([readFile(join(dir, crt)), readFile(join(dir, key))]);
        if (old?.context.cert.equals(certPem) && old.context.key.equals(keyPem)) {
          next.push(old); // unchanged: the same SecureContext (its session cache) stays
          continue;
        }
        next.push(loadPair(name, certPem, keyPem, crt));
      } catch (err) {
        failures.set(name, { file: (err as PairError).file ?? `${crt}, ${key}`, reason: messageOf(err) });
        if (old) next.push(old);
      }
    }
    for (const half of plan.incomplete) {
      const old = previous.get(half.name);
      // one half renamed or deleted before the other: keep serving what was there
      failures.set(half.name, { file: half.present, reason: `${half.missing} is missing` });
      if (old) next.push(old);
    }
    this.settle(failures);
    const changed = next.length !== this.table.entries.length || next.some((e) => previous.get(e.file) !== e);
    if (!changed) return;
    const table = buildCertTable(next);
    for (const c of table.conflicts)
      this.logger.warn(
        c,
        `TLS: ${c.ignored}.crt and ${c.kept}.crt both name ${c.name}; ${c.kept}.crt is served for it`,
      );
    for (const e of next)
      if (previous.get(e.file) !== e)
        this.logger.info(
          { file: `${e.file}.crt`, names: e.names, notAfter: e.context.notAfter.toISOString() },
          previous.has(e.file) ? 'TLS certificate reloaded' : 'TLS certificate loaded',
        );
    for (const name of previous.keys())
      if (!next.some((e) => e.file === name))
        this.logger.info({ file: `${name}.crt` }, 'TLS certificate removed');
    if (table.entries.length === 0)
      this.logger.warn(
        { dir },
        'TLS: no certificate in TLS_CERT_DIR; TLS handshakes fail until a pair is added',
      );
    for (const e of next)
      if (e.context.notAfter.getTime() < Date.now())
        this.logger.warn(
          { file: `${e.file}.crt`, notAfter: e.context.notAfter.toISOString() },
          'TLS certificate has expired',
        );
    this.table = table;
    this.onChange?.(table);
  }

  /** A failure is logged when it is still there after settleMs with the same reason; then not again until it changes. */
  private settle(failures: Map<string, { file: string; reason: string }>): void {
    let retry = false;
    for (const [name, f] of failures) {
      const what = `${f.file}: ${f.reason}`;
      if (this.reported.get(name) === what) continue;
      if (this.unsettled.get(name) !== what) {
        this.unsettled.set(name, what);
        retry = true;
        continue;
      }
      this.unsettled.delete(name);
      this.reported.set(name, what);
      this.errors?.inc({ file: name });
      const kept = this.table.entries.some((e) => e.file === name);
      this.logger.error(
        { file: f.file, reason: f.reason, dir: this.settings.dir },
        `TLS certificate ${f.file} not loaded: ${f.reason}; ${kept ? 'the previous one stays in use' : 'nothing is served for it'}`,
      );
    }
    for (const name of [...this.unsettled.keys()]) if (!failures.has(name)) this.unsettled.delete(name);
    for (const name of [...this.reported.keys()]) if (!failures.has(name)) this.reported.delete(name);
    if (retry) {
      const t = setTimeout(() => void this.reload(), this.settleMs);
      t.unref();
    }
  }
}

class PairError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

function messageOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES') return 'permission denied (the balancer runs as the image user `node`)';
  if (e.code === 'ENOENT') return 'the file disappeared while it was read';
  return e.message ?? String(err);
}

/** Parses and checks one pair; a PairError names the file at fault. */
export function loadPair(
  name: string,
  cert: Buffer,
  key: Buffer,
  crtFile = `${name}.crt`,
): CertEntry<LoadedPair> {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new PairError(crtFile, `not a PEM certificate (${(err as Error).message})`);
  }
  const keyFile = `${name}.key`;
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new PairError(keyFile, `not a PEM private key (${(err as Error).message})`);
  }
  if (!x509.checkPrivateKey(privateKey))
    throw new PairError(keyFile, `the key does not belong to ${crtFile}`);
  let context: SecureContext;
  try {
    context = createSecureContext({ cert, key, minVersion: TLS_MIN_VERSION });
  } catch (err) {
    throw new PairError(crtFile, (err as Error).message);
  }
  return {
    file: name,
    names: certificateNames(x509),
    context: { context, cert, key, notAfter: new Date(x509.validTo) },
  };
}

function certMetrics(registry: Registry, store: CertStore): Counter {
  new Gauge({
    name: LB_METRICS.tlsCertificates,
    help: 'TLS: certificate pairs in use from TLS_CERT_DIR.',
    registers: [registry],
    collect() {
      this.set(store.current.entries.length);
    },
  });
  new Gauge({
    name: LB_METRICS.tlsCertExpiry,
    help: 'TLS: notAfter of each certificate in use (unix seconds), by pair.',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of store.current.entries) this.set({ file: e.file }, e.context.notAfter.getTime() / 1000);
    },
  });
  return new Counter({
    name: LB_METRICS.tlsCertErrors,
    help: 'TLS: pairs that could not be (re)loaded; the previous certificate stays in use.',
    labelNames: ['file'],
    registers: [registry],
  });
}
