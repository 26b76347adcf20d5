// Certificates for tests and benchmarks, made at run time with the openssl command line (no
// network, no fixtures to expire): a self-signed pair for one server, or a throwaway CA and the
// leaves it signs (for rotation and chain checks). Every test and benchmark that needs a
// certificate makes it here, so the recipe (P-256 or RSA, SAN, validity) lives in one place.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 'ec': P-256 (fast to make, what the docs recommend); 'rsa': 2048 bits (the example's recipe). */
export type KeyKind = 'ec' | 'rsa';

export interface CertOptions {
  /** DNS names for the SAN; the first is also the CN. */
  names: string[];
  /** IP addresses for the SAN (e.g. 127.0.0.1, for clients that dial an address). */
  ips?: string[];
  key?: KeyKind;
  /** Validity in days (default 2: nothing a test makes should outlive the run by much). */
  days?: number;
}

export interface CertFiles {
  /** The directory the pair is in (Headroom's TLS_CERT_DIR reads <name>.crt + <name>.key pairs). */
  dir: string;
  /** Paths of the PEM files. */
  cert: string;
  key: string;
  certPem: string;
  keyPem: string;
}

/** A fresh temporary directory for certificates (removing it is the caller's). */
export function certDir(prefix = 'hr-tls-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function newKeyArgs(kind: KeyKind = 'ec'): string[] {
  return kind === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

function subjectArgs(opts: CertOptions): string[] {
  const san = [...opts.names.map((n) => `DNS:${n}`), ...(opts.ips ?? []).map((ip) => `IP:${ip}`)];
  return [
    '-days',
    String(opts.days ?? 2),
    '-subj',
    `/CN=${opts.names[0]}`,
    '-addext',
    `subjectAltName=${san}`,
  ];
}

/**
 * A self-signed certificate for `names`, written as <dir>/<file>.crt and <file>.key (`dir`: a new
 * temporary one unless given; `file`: the first name). `readable` makes the directory and both
 * files readable by every user (a container's non-root user mounting them).
 */
export function selfSignedCert(
  opts: CertOptions & { dir?: string; file?: string; readable?: boolean },
): CertFiles {
  const dir = opts.dir ?? certDir();
  const base = opts.file ?? opts.names[0];
  const cert = join(dir, `${base}.crt`);
  const key = join(dir, `${base}.key`);
  openssl([
    'req',
    '-x509',
    ...newKeyArgs(opts.key),
    '-noenc',
    '-keyout',
    key,
    '-out',
    cert,
    ...subjectArgs(opts),
  ]);
  if (opts.readable) {
    chmodSync(dir, 0o755);
    for (const f of [cert, key]) chmodSync(f, 0o644);
  }
  return { dir, cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM), for a client's trust store. */
  pem: string;
  /** A leaf signed by the CA for `names`: its PEM cert, key and serial (not written anywhere). */
  leaf(names: string[], opts?: Omit<CertOptions, 'names'>): { cert: string; key: string; serial: string };
}

export function makeCa(): TestCa {
  const dir = certDir('hr-tls-ca-');
  const caKey = join(dir, 'ca.key');
  const caPem = join(dir, 'ca.pem');
  const caSubject = ['-days', '2', '-subj', '/CN=headroom-test-ca'];
  openssl(['req', '-x509', ...newKeyArgs(), '-noenc', '-keyout', caKey, '-out', caPem, ...caSubject]);
  let n = 0;
  return {
    dir,
    pem: readFileSync(caPem, 'utf8'),
    leaf(names, opts = {}) {
      n++;
      const key = join(dir, `leaf-${n}.key`);
      const crt = join(dir, `leaf-${n}.crt`);
      const signer = ['-CA', caPem, '-CAkey', caKey];
      openssl([
        'req',
        ...newKeyArgs(opts.key),
        '-noenc',
        '-keyout',
        key,
        '-out',
        crt,
        ...signer,
        ...subjectArgs({ ...opts, names }),
      ]);
      const cert = readFileSync(crt, 'utf8');
      return { cert, key: readFileSync(key, 'utf8'), serial: new X509Certificate(cert).serialNumber };
    },
  };
}

/** Writes a file the way tools do (a temp file, then a rename), so no reader sees half of it. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes <name>.crt and <name>.key into `dir` (the key first: a reader finding the cert finds its key). */
export function installPair(dir: string, name: string, pair: { cert: string; key: string }): void {
  writeAtomic(join(dir, `${name}.key`), pair.key);
  writeAtomic(join(dir, `${name}.crt`), pair.cert);
}
