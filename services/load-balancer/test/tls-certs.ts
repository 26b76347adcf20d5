// Test certificates made at test time with the openssl command line (no network, no
// fixtures to expire): a throwaway CA and P-256 leaves with the SAN names asked for.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCa {
  dir: string;
  pem: string;
  /** Makes a leaf for `names` and returns its PEM cert and key (not written anywhere). */
  leaf(names: string[]): { cert: string; key: string; serial: string };
}

export function makeCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'hr-tls-ca-'));
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-noenc',
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=headroom-test-ca',
  ]);
  let n = 0;
  return {
    dir,
    pem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    leaf(names) {
      n++;
      const key = join(dir, `leaf-${n}.key`);
      const crt = join(dir, `leaf-${n}.crt`);
      openssl([
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-noenc',
        '-keyout',
        key,
        '-out',
        crt,
        '-CA',
        join(dir, 'ca.pem'),
        '-CAkey',
        join(dir, 'ca.key'),
        '-days',
        '2',
        '-subj',
        `/CN=${names[0]}`,
        '-addext',
        `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}`,
      ]);
      const cert = readFileSync(crt, 'utf8');
      return { cert, key: readFileSync(key, 'utf8'), serial: new X509Certificate(cert).serialNumber };
    },
  };
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** Writes a file the way tools do (a temp file, then a rename), so no reader sees half of it. */
export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes <name>.crt and <name>.key into `dir`. */
export function installPair(dir: string, name: string, pair: { cert: string; key: string }): void {
  writeAtomic(join(dir, `${name}.key`), pair.key);
  writeAtomic(join(dir, `${name}.crt`), pair.cert);
}
