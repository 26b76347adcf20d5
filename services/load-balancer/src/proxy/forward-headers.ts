// Pure header rewriting for the proxy: hop-by-hop headers (RFC 9110 §7.6.1, plus the
// ones named in Connection) never cross it; X-Forwarded-* tell the backend who asked.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

function namedInConnection(connection: string | string[] | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  const text = Array.isArray(connection) ? connection.join(',') : connection;
  let out: Set<string> | undefined;
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name.length === 0 || name === 'close' || name === 'keep-alive') continue;
    out ??= new Set();
    out.add(name);
  }
  return out;
}

export interface ForwardFacts {
  remoteAddress: string | undefined;
  encrypted: boolean;
  /**
   * The peer is in TRUSTED_PROXIES: its X-Forwarded-* and Forwarded are kept (the client
   * address appended). Otherwise they are dropped and the proxy writes its own: any client
   * could write them to pass as another address, or as https.
   */
  trusted?: boolean | undefined;
}

/** Names of the forwarding headers only a trusted peer may set (X-Forwarded-*, Forwarded, X-Real-IP). */
function isForwardingHeader(name: string): boolean {
  return name.startsWith('x-forwarded-') || name === 'forwarded' || name === 'x-real-ip';
}

/** Headers to send upstream. `host` is kept (backends may route on it); X-Forwarded-* are added. */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  facts: ForwardFacts,
): Record<string, string | string[]> {
  const extra = namedInConnection(incoming.connection);
  const trusted = facts.trusted === true;
  const out: Record<string, string | string[]> = {};
  for (const name in incoming) {
    if (HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    if (!trusted && isForwardingHeader(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  const prior = trusted ? incoming['x-forwarded-for'] : undefined;
  const client = facts.remoteAddress ?? 'unknown';
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  // over TLS the balancer is the one that knows: https, whatever the client wrote; a plain
  // request from a trusted proxy keeps the proto it set (a TLS terminator in front of Headroom)
  if (facts.encrypted) out['x-forwarded-proto'] = 'https';
  else if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = 'http';
  if (out['x-forwarded-host'] === undefined && incoming.host !== undefined)
    out['x-forwarded-host'] = incoming.host;
  return out;
}

/** Response headers to send to the client, from undici's header object. */
export function downstreamResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const extra = namedInConnection(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    if (HOP_BY_HOP.has(name) || extra?.has(name)) continue;
    const value = upstream[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Value of one cookie in a Cookie header, without allocating a parsed map. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let from = 0;
  while (from < header.length) {
    let end = header.indexOf(';', from);
    if (end < 0) end = header.length;
    const eq = header.indexOf('=', from);
    if (eq > from && eq < end && header.slice(from, eq).trim() === name)
      return header.slice(eq + 1, end).trim();
    from = end + 1;
  }
  return undefined;
}
