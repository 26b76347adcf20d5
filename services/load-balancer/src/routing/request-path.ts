// The request path in normal form, pure: what routes are matched on AND what is forwarded.
// Envoy's normalize_path, i.e. RFC 3986 §6.2.2:
//   1. percent-encoding normalisation (§6.2.2.1, §6.2.2.2): an escaped unreserved character
//      (ALPHA DIGIT - . _ ~) is decoded (`/%61pi` → `/api`, `%2e` → `.`), every other escape
//      keeps its encoding with upper-case hex (`%2f` → `%2F`: an encoded slash stays data);
//   2. dot-segment removal (§6.2.2.3, the algorithm of §5.2.4): `/api/../admin` → `/admin`,
//      after step 1, so an encoded `%2e%2e` is a dot segment too.
// The query (from the first `?`) is kept byte for byte: it is the backend's to read.
// A `%` not followed by two hex digits is malformed (Envoy answers 400 too): the caller
// answers 400 LB_ERR_INVALID_PATH rather than guess what the backend will make of it.
//
// Why match AND forward the normal form: the balancer and the backend must agree on which
// route a path belongs to. Matching the raw path let `/api/../admin` reach the api service
// (a backend resolving the dots then served `/admin`, past any route meant to guard it), and
// let `/%61pi` miss the `/api` route although every backend reads it as `/api`. Forwarding
// the raw path after matching the normal one would reopen the same gap on the other side.

/** A request path that cannot be normalised: the caller answers 400 with `message`. */
export interface BadPath {
  readonly message: string;
}

/**
 * `url` (origin-form: path, then an optional `?query`) in normal form; the same string when
 * it already is (the common case: a few native scans, no allocation), or a BadPath.
 */
export function normaliseRequestPath(url: string): string | BadPath {
  // origin-form only: the proxy turns absolute-form into it first, and '*' has no path
  if (url.charCodeAt(0) !== 47 /* / */) return url;
  const n = url.length;
  // the path ends at the query (or a fragment, which route matching treats alike)
  let end = url.indexOf('?');
  if (end < 0) end = n;
  const hash = url.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  // work only for an escape, or a segment that starts with '.' (a dot segment, or
  // '/.well-known', found unchanged); native indexOf: a long path costs little more
  const pct = url.indexOf('%');
  const dot = url.indexOf('/.');
  if (!((pct >= 0 && pct < end) || (dot >= 0 && dot < end))) return url;
  const decoded = normaliseEscapes(url.slice(0, end));
  if (typeof decoded !== 'string') return decoded;
  const path = removeDotSegments(decoded);
  return end === n ? path : path + url.slice(end);
}

/** RFC 3986 §2.3. */
function isUnreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) || // A-Z
    (c >= 97 && c <= 122) || // a-z
    (c >= 48 && c <= 57) || // 0-9
    c === 45 || // -
    c === 46 || // .
    c === 95 || // _
    c === 126 // ~
  );
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const HEX = '0123456789ABCDEF';

/** §6.2.2.1 and §6.2.2.2: escaped unreserved characters decoded, other escapes upper-case. */
function normaliseEscapes(path: string): string | BadPath {
  if (path.indexOf('%') < 0) return path;
  let out = '';
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', from)) {
    const hi = i + 1 < path.length ? hexValue(path.charCodeAt(i + 1)) : -1;
    const lo = i + 2 < path.length ? hexValue(path.charCodeAt(i + 2)) : -1;
    if (hi < 0 || lo < 0) {
      return { message: `malformed percent-encoding "${path.slice(i, i + 3)}" in the path (RFC 3986 §2.1)` };
    }
    const byte = hi * 16 + lo;
    out += path.slice(from, i);
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[hi]}${HEX[lo]}`;
    from = i + 3;
  }
  return out + path.slice(from);
}

/** RFC 3986 §5.2.4 for an absolute path (starts with '/'): `.` and `..` segments resolved. */
function removeDotSegments(path: string): string {
  const segments = path.split('/');
  const out: string[] = [];
  const last = segments.length - 1;
  // segments[0] is the '' before the leading '/'
  for (let i = 1; i <= last; i++) {
    const s = segments[i]!;
    if (s === '.' || s === '..') {
      // '..' above the root stays at the root (§5.2.4 step C on an empty output buffer)
      if (s === '..') out.pop();
      // a trailing dot segment leaves the directory: `/a/b/..` → `/a/`
      if (i === last) out.push('');
    } else out.push(s);
  }
  return `/${out.join('/')}`;
}
