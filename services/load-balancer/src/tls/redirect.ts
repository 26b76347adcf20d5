// lb.tls.redirect=true: what a plain-HTTP request of that service is answered with. Pure.
// A 308 (not 301) keeps the method and the body, so a POST is repeated as a POST over TLS.

export type RedirectDecision =
  /** Answer 308 with this Location. */
  | { kind: 'redirect'; location: string }
  /** Forward as usual: an ACME HTTP-01 challenge (it must be answered over plain HTTP), or an asterisk-form request. */
  | { kind: 'forward' }
  /** No usable Host to redirect to: answer 400 rather than serve the service over plain HTTP. */
  | { kind: 'bad-host' };

const ACME_CHALLENGE = '/.well-known/acme-challenge/';
// a DNS name or IPv4 address, or a bracketed IPv6 address, then an optional port
const HOST = /^(?:[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Where a plain-HTTP request goes over TLS. `publicTlsPort` is the port clients reach the
 * TLS listener on (TLS_REDIRECT_PORT: the published one, 443 in the compose stack, which
 * is left out of the URL); the Host's own port is the plain one and is dropped.
 */
export function httpsRedirect(
  host: string | undefined,
  url: string | undefined,
  publicTlsPort: number,
): RedirectDecision {
  let path = url ?? '/';
  if (!path.startsWith('/')) {
    // absolute-form (`GET http://a.test/x`, what a client talking to a proxy sends): its path
    if (!/^https?:\/\//i.test(path)) return { kind: 'forward' };
    const slash = path.indexOf('/', path.indexOf('//') + 2);
    path = slash < 0 ? '/' : path.slice(slash);
  }
  if (path.startsWith(ACME_CHALLENGE)) return { kind: 'forward' };
  if (host === undefined || !HOST.test(host)) return { kind: 'bad-host' };
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  const port = publicTlsPort === 443 ? '' : `:${publicTlsPort}`;
  return { kind: 'redirect', location: `https://${name.toLowerCase()}${port}${path}` };
}
