// The certificate table: pairs in, "which certificate for this SNI name" out. Pure; the
// context type is a parameter so tests use plain strings and the server SecureContexts.
//
// Selection: an exact SAN name beats a one-label wildcard (`*.example.com` covers
// `a.example.com`, not `example.com` nor `a.b.example.com`); a client without SNI, or
// with a name no certificate has, gets the default certificate: the pair named
// `default` (default.crt + default.key) when there is one, else the first pair by file
// name. Two pairs claiming the same name: the first by file name keeps it (a conflict
// the caller logs), so the choice never depends on the order files were written in.
import { normaliseHostName, parentOf, wildcardParent } from './cert-names.js';

export interface CertEntry<C> {
  /** The pair's file base name: `a` for a.crt + a.key. */
  readonly file: string;
  /** Normalised SAN names (or CN), wildcards as written: `*.a.test`. */
  readonly names: readonly string[];
  readonly context: C;
}

export interface NameConflict {
  name: string;
  /** The pair that keeps the name. */
  kept: string;
  /** The pair that also claims it and is not chosen for it. */
  ignored: string;
}

export interface CertTable<C> {
  readonly exact: ReadonlyMap<string, CertEntry<C>>;
  /** Keyed by the parent a wildcard covers: `*.a.test` under `a.test`. */
  readonly wildcard: ReadonlyMap<string, CertEntry<C>>;
  /** Without SNI, or for a name nothing matches. */
  readonly fallback: CertEntry<C> | undefined;
  readonly entries: readonly CertEntry<C>[];
  readonly conflicts: readonly NameConflict[];
}

/** The base name of the pair served to clients without SNI when it exists. */
export const DEFAULT_PAIR = 'default';

export function buildCertTable<C>(pairs: readonly CertEntry<C>[]): CertTable<C> {
  const entries = [...pairs].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const exact = new Map<string, CertEntry<C>>();
  const wildcard = new Map<string, CertEntry<C>>();
  const conflicts: NameConflict[] = [];
  for (const entry of entries) {
    for (const raw of entry.names) {
      const name = normaliseHostName(raw);
      const parent = wildcardParent(name);
      const map = parent === undefined ? exact : wildcard;
      const key = parent ?? name;
      if (name.includes('*') && parent === undefined) continue; // a wildcard no client matches
      const holder = map.get(key);
      if (holder === undefined) map.set(key, entry);
      else if (holder !== entry) conflicts.push({ name, kept: holder.file, ignored: entry.file });
    }
  }
  const fallback = entries.find((e) => e.file === DEFAULT_PAIR) ?? entries[0];
  return { exact, wildcard, fallback, entries, conflicts };
}

/** The certificate for an SNI name (undefined: no SNI sent). */
export function selectCertificate<C>(
  table: CertTable<C>,
  servername: string | undefined,
): CertEntry<C> | undefined {
  if (servername === undefined || servername === '') return table.fallback;
  const host = normaliseHostName(servername);
  const hit = table.exact.get(host);
  if (hit !== undefined) return hit;
  const parent = parentOf(host);
  if (parent !== undefined) {
    const wild = table.wildcard.get(parent);
    if (wild !== undefined) return wild;
  }
  return table.fallback;
}

export interface PairPlan {
  /** Complete pairs by base name, sorted. */
  pairs: Array<{ name: string; crt: string; key: string }>;
  /** Base names with a .crt and no .key, or the other way round (one renamed before the other). */
  incomplete: Array<{ name: string; present: string; missing: string }>;
}

/**
 * Which files of a directory listing form pairs. Dotfiles (editors' and Kubernetes'
 * `..data` swap files) and other extensions are not certificates and are ignored.
 */
export function planPairs(fileNames: readonly string[]): PairPlan {
  const crt = new Set<string>();
  const key = new Set<string>();
  for (const f of fileNames) {
    if (f.startsWith('.')) continue;
    if (f.endsWith('.crt') && f.length > 4) crt.add(f.slice(0, -4));
    else if (f.endsWith('.key') && f.length > 4) key.add(f.slice(0, -4));
  }
  const pairs: PairPlan['pairs'] = [];
  const incomplete: PairPlan['incomplete'] = [];
  for (const name of [...new Set([...crt, ...key])].sort()) {
    if (crt.has(name) && key.has(name)) pairs.push({ name, crt: `${name}.crt`, key: `${name}.key` });
    else if (crt.has(name)) incomplete.push({ name, present: `${name}.crt`, missing: `${name}.key` });
    else incomplete.push({ name, present: `${name}.key`, missing: `${name}.crt` });
  }
  return { pairs, incomplete };
}
