// One self-signed P-256 certificate for the TLS benchmarks (the testkit's recipe): SAN
// bench.test and 127.0.0.1, so every proxy serves it whatever SNI wrk sends (wrk names the
// URL's host). Written as a Headroom pair (<dir>/bench.crt + bench.key) and as the one PEM
// file with both that HAProxy reads.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certDir, selfSignedCert } from '@headroom/testkit';

export interface BenchCert {
  /** A directory holding bench.crt + bench.key: Headroom's TLS_CERT_DIR. */
  dir: string;
  cert: string;
  key: string;
  /** Certificate then key in one file (HAProxy's `crt`). */
  combined: string;
}

export function makeBenchCert(): BenchCert {
  const pair = selfSignedCert({
    names: ['bench.test'],
    ips: ['127.0.0.1'],
    dir: certDir('hr-bench-tls-'),
    file: 'bench',
  });
  const combined = join(pair.dir, 'combined.pem.txt'); // not a .crt: Headroom's directory reads pairs only
  writeFileSync(combined, pair.certPem + pair.keyPem);
  return { dir: pair.dir, cert: pair.cert, key: pair.key, combined };
}
