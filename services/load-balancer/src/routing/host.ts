// Host normalisation for routing, pure. A Host header (or a route's host) becomes the one
// form the route table is keyed by: lower-case, no port, IPv6 without brackets, one trailing
// dot removed. Each of these first reached Traefik as a 404 report (#562 case, #288 port,
// #4622 trailing dot): the table never sees the raw header.

/** True when `h` is already in normal form (the common case: no allocation). */
function isNormal(h: string): boolean {
  const n = h.length;
  if (n === 0) return true;
  for (let i = 0; i < n; i++) {
    const c = h.charCodeAt(i);
    // A-Z, ':' (port or IPv6), '[' (IPv6)
    if ((c >= 65 && c <= 90) || c === 58 || c === 91) return false;
  }
  return h.charCodeAt(n - 1) !== 46;
}

/** `Shop.Example.com.:8080` → `shop.example.com`; `[::1]:80` → `::1`; undefined → ''. */
export function normaliseHost(raw: string | undefined): string {
  if (raw === undefined) return '';
  if (isNormal(raw)) return raw;
  let h = raw;
  if (h.charCodeAt(0) === 91) {
    // [v6] or [v6]:port
    const end = h.indexOf(']');
    h = end < 0 ? h.slice(1) : h.slice(1, end);
  } else {
    const colon = h.indexOf(':');
    // one colon: host:port; several without brackets: a bare IPv6 address, kept whole
    if (colon >= 0 && h.indexOf(':', colon + 1) < 0) h = h.slice(0, colon);
  }
  h = h.toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}
