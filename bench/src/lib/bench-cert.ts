// One self-signed P-256 certificate for the TLS benchmarks, made with openssl at run time:
// SAN bench.test and 127.0.0.1, so every proxy serves it whatever SNI wrk sends (wrk names
// the URL's host). Written as a Headroom pair (<dir>/bench.crt + bench.key) and as the one
// PEM file with both that HAProxy reads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCert {
  /** A directory holding bench.crt + bench.key: Headroom's TLS_CERT_DIR. */
  dir: string;
  cert: string;
  key: string;
  /** Certificate then key in one file (HAProxy's `crt`). */
  combined: string;
}

export function makeBenchCert(): BenchCert {
  const dir = mkdtempSync(join(tmpdir(), 'hr-bench-tls-'));
  const cert = join(dir, 'bench.crt');
  const key = join(dir, 'bench.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-noenc',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=bench.test',
      '-addext',
      'subjectAltName=DNS:bench.test,IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  const combined = join(dir, 'combined.pem.txt'); // not a .crt: Headroom's directory reads pairs only
  writeFileSync(combined, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'));
  return { dir, cert, key, combined };
}
