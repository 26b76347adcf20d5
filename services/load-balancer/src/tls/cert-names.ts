// Which host names a certificate answers for, and how names compare: the pure half of
// SNI selection. A name is lower-cased and loses one trailing dot on both sides (the
// forms a client may send; Traefik learned each of these from a bug report).

/** The form names are compared in: lower case, no surrounding space, no trailing dot. */
export function normaliseHostName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * DNS names of a subjectAltName string as node:crypto's X509Certificate prints it
 * (`DNS:a.test, DNS:*.a.test, IP Address:127.0.0.1`). Entries node had to quote (they
 * hold a comma or a quote) are not valid DNS names and are skipped.
 */
export function dnsNamesOfSan(san: string | undefined): string[] {
  if (san === undefined) return [];
  const out: string[] = [];
  for (const part of san.split(', ')) {
    if (!part.startsWith('DNS:') || part.startsWith('DNS:"')) continue;
    const name = normaliseHostName(part.slice(4));
    if (name.length > 0 && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The CN of a subject string as X509Certificate prints it (one `KEY=value` per line). */
export function commonNameOf(subject: string): string | undefined {
  for (const line of subject.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

/**
 * Names a certificate is selected by: its SAN DNS names; a certificate without any falls
 * back to its subject CN (as HAProxy does), so an old self-signed certificate still works.
 */
export function certificateNames(cert: { subjectAltName?: string | undefined; subject: string }): string[] {
  const names = dnsNamesOfSan(cert.subjectAltName);
  if (names.length > 0) return names;
  const cn = commonNameOf(cert.subject);
  return cn === undefined ? [] : [normaliseHostName(cn)];
}

/**
 * `*.example.com` → `example.com`: the parent a one-label wildcard covers; undefined for a
 * plain name or a wildcard anywhere else (`a*.example.com`, `*.*.example.com`), which
 * no client matches the way the certificate's owner would expect.
 */
export function wildcardParent(name: string): string | undefined {
  if (!name.startsWith('*.')) return undefined;
  const parent = name.slice(2);
  return parent.length > 0 && !parent.includes('*') ? parent : undefined;
}

/** The parent a one-label wildcard would have to name to cover `host` (`a.b.c` → `b.c`). */
export function parentOf(host: string): string | undefined {
  const dot = host.indexOf('.');
  return dot > 0 && dot < host.length - 1 ? host.slice(dot + 1) : undefined;
}
