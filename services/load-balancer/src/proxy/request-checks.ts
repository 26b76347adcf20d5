// What the proxy checks in a request head before it forwards anything (RFC 9112 and RFC 9110
// for intermediaries; the conformance table in test/conformance/table.ts). Pure: a verdict from
// the method, target and raw header lines; proxy-server.ts acts on it. Node's parser has
// already refused bad framing (CL+TE, differing Content-Lengths, bad chunks), a missing Host in
// HTTP/1.1 and oversized heads; what it lets through is checked here.
import type { ProxyErrorKind } from '../errors.js';

/** Longest request-target forwarded (RFC 9112 §3 recommends supporting at least 8,000 octets). */
export const MAX_TARGET_LENGTH = 8192;
/** What OPTIONS answered here says the proxy allows (the backends' own methods are theirs to tell). */
export const PROXY_ALLOW = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

export type Verdict =
  | { kind: 'forward'; absolute?: { path: string; host: string }; maxForwards?: number }
  | { kind: 'reject'; error: ProxyErrorKind; message: string }
  /** OPTIONS whose Max-Forwards reached 0: the proxy is its final recipient. */
  | { kind: 'options' };

const FORWARD: Verdict = { kind: 'forward' };
// RFC 3986 host [ ":" port ]: reg-name or IPv4 (unreserved, pct-encoded, sub-delims) or an IP-literal
const HOST_VALUE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;

export function checkRequest(
  method: string | undefined,
  url: string | undefined,
  rawHeaders: string[],
): Verdict {
  const target = url ?? '/';
  if (target.length > MAX_TARGET_LENGTH) {
    return {
      kind: 'reject',
      error: 'uriTooLong',
      message: `request-target over ${MAX_TARGET_LENGTH} octets`,
    };
  }
  let host: string | undefined;
  let hosts = 0;
  let maxForwards: string | undefined;
  let codings: string | undefined;
  // rawHeaders: name, value, name, value… as received (node:http keeps only the first Host in req.headers)
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host = rawHeaders[i + 1];
    } else if (name.length === 12 && name.toLowerCase() === 'max-forwards') maxForwards = rawHeaders[i + 1];
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding')
      codings = codings === undefined ? rawHeaders[i + 1] : `${codings},${rawHeaders[i + 1]}`;
  }
  if (hosts > 1)
    return { kind: 'reject', error: 'badRequest', message: 'more than one Host header (RFC 9112 §3.2)' };
  if (host !== undefined && !HOST_VALUE.test(host)) {
    return { kind: 'reject', error: 'badRequest', message: 'invalid Host header (RFC 9112 §3.2)' };
  }
  // asterisk-form is OPTIONS on the server as a whole: this proxy is that server
  if (target === '*') {
    return method === 'OPTIONS'
      ? { kind: 'options' }
      : { kind: 'reject', error: 'badRequest', message: 'the * request-target is for OPTIONS only' };
  }
  // Node's parser framed the body by the final coding (chunked); any other coding would be
  // forwarded to the backend as if it had been removed (RFC 9112 §6.1: SHOULD answer 501)
  if (codings?.split(',').some((c) => c.trim().toLowerCase() !== 'chunked')) {
    return {
      kind: 'reject',
      error: 'notImplemented',
      message: 'only the chunked transfer coding is supported',
    };
  }
  let verdict = FORWARD;
  if (target.charCodeAt(0) !== 47 /* '/' */) {
    const absolute = absoluteForm(target);
    if (!absolute) return { kind: 'reject', error: 'badRequest', message: 'invalid request-target' };
    verdict = { kind: 'forward', absolute };
  }
  if (maxForwards !== undefined && (method === 'OPTIONS' || method === 'TRACE')) {
    const n = Number(maxForwards.trim());
    if (!Number.isInteger(n) || n < 0) {
      return { kind: 'reject', error: 'badRequest', message: 'invalid Max-Forwards (RFC 9110 §7.6.2)' };
    }
    if (n === 0) {
      return method === 'OPTIONS'
        ? { kind: 'options' }
        : { kind: 'reject', error: 'methodNotAllowed', message: 'TRACE is not reflected by this proxy' };
    }
    verdict = { ...verdict, kind: 'forward', maxForwards: n - 1 };
  }
  return verdict;
}

/** absolute-form (RFC 9112 §3.2.2): the origin-form path and the authority that replaces Host. */
function absoluteForm(target: string): { path: string; host: string } | undefined {
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    const u = new URL(target);
    return { path: `${u.pathname}${u.search}`, host: u.host };
  } catch {
    return undefined;
  }
}
