// The HTTP/1.1 conformance table for the proxy as an intermediary, from the MUSTs of RFC 9110
// (semantics) and RFC 9112 (HTTP/1.1 message syntax), and RFC 3986 §6.2.2 for the path it
// routes on. Each row: the raw request bytes, what the client must get, and what the backend
// must (or must not) receive. docs/operations.md
// ("HTTP conformance") lists the rows; http-conformance.test.ts runs them.

export interface BackendExpectation {
  /** The request line the backend must receive. */
  requestLine?: string;
  /** The body bytes the backend must receive (as framed on its connection). */
  body?: string;
  /** Header fields (lower-case name → exact value) the backend must receive, once each. */
  has?: Record<string, string>;
  /** Header fields the backend must not receive. */
  lacks?: string[];
  /** No header value may contain a CR or LF (a folded line forwarded as is). */
  noFoldedValues?: boolean;
  /** A Connection field, if any, carries only the proxy's own options (keep-alive, close). */
  ownConnectionOnly?: boolean;
}

export interface Row {
  id: string;
  /** RFC section the MUST comes from. */
  ref: string;
  must: string;
  request: string;
  /** For Expect: 100-continue: the body, sent once a 100 arrives (or after a wait). */
  body?: string;
  /** The final status the client must get. */
  status: number;
  /** A 100 Continue must come before the final answer. */
  continueFirst?: boolean;
  /** 'nothing': the request must not reach the backend. */
  backend: 'nothing' | BackendExpectation;
}

const H = 'Host: conf.test\r\n';
const long = (n: number) => 'a'.repeat(n);

export const ROWS: Row[] = [
  {
    id: 'plain-get',
    ref: 'RFC 9112 §3',
    must: 'a well-formed request is forwarded with its method, origin-form target and Host',
    request: `GET /p?q=1 HTTP/1.1\r\n${H}\r\n`,
    status: 200,
    backend: { requestLine: 'GET /p?q=1 HTTP/1.1', has: { host: 'conf.test' } },
  },
  {
    id: 'cl-and-te',
    ref: 'RFC 9112 §6.1, §6.3',
    must: 'Content-Length with Transfer-Encoding: never forwarded with both (request smuggling); rejected here',
    request: `POST /s HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'two-content-lengths',
    ref: 'RFC 9112 §6.3 (5)',
    must: 'differing Content-Length values: unrecoverable error, 400',
    request: `POST /s HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nhello`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'te-not-chunked-last',
    ref: 'RFC 9112 §6.3 (4)',
    must: 'Transfer-Encoding in a request whose final coding is not chunked: 400',
    request: `POST /s HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nabc`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'te-unknown-coding',
    ref: 'RFC 9112 §6.1',
    must: 'a transfer coding the recipient does not understand: 501 (SHOULD), never forwarded as if understood',
    request: `POST /s HTTP/1.1\r\n${H}Transfer-Encoding: bogus, chunked\r\n\r\n0\r\n\r\n`,
    status: 501,
    backend: 'nothing',
  },
  {
    id: 'chunked-extensions-trailer',
    ref: 'RFC 9112 §7.1.1, §7.1.2',
    must: 'chunk extensions and trailer fields are parsed; the body arrives whole',
    request: `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n`,
    status: 200,
    backend: { requestLine: 'POST /c HTTP/1.1', body: 'hello world' },
  },
  {
    id: 'chunk-size-invalid',
    ref: 'RFC 9112 §7.1',
    must: 'a chunk size that is not hex: the framing is invalid, 400',
    request: `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'chunk-size-overflow',
    ref: 'RFC 9112 §7.1',
    must: 'a chunk size beyond what can be represented (integer overflow): 400',
    request: `POST /c HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'host-missing',
    ref: 'RFC 9112 §3.2',
    must: 'an HTTP/1.1 request without Host: 400',
    request: 'GET /h HTTP/1.1\r\nX-A: 1\r\n\r\n',
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'host-twice',
    ref: 'RFC 9112 §3.2',
    must: 'more than one Host field line: 400',
    request: `GET /h HTTP/1.1\r\n${H}Host: evil.test\r\n\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'host-twice-same',
    ref: 'RFC 9112 §3.2',
    must: 'more than one Host field line, even with the same value: 400',
    request: `GET /h HTTP/1.1\r\n${H}${H}\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'host-invalid',
    ref: 'RFC 9112 §3.2',
    must: 'a Host field with an invalid value: 400',
    request: 'GET /h HTTP/1.1\r\nHost: a b/c\r\n\r\n',
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'absolute-form',
    ref: 'RFC 9112 §3.2.2',
    must: 'absolute-form is accepted; the received Host is replaced by the target authority; origin-form upstream',
    request: 'GET http://target.test/abs?x=1 HTTP/1.1\r\nHost: other.test\r\n\r\n',
    status: 200,
    backend: { requestLine: 'GET /abs?x=1 HTTP/1.1', has: { host: 'target.test' } },
  },
  {
    id: 'path-dot-segments',
    ref: 'RFC 3986 §6.2.2.3, §5.2.4',
    must: 'dot segments are removed before routing, and the backend receives the same path the route was matched on',
    request: `GET /a/./b/../c/%2e%2E/d?q=/../x HTTP/1.1\r\n${H}\r\n`,
    status: 200,
    backend: { requestLine: 'GET /a/d?q=/../x HTTP/1.1' },
  },
  {
    id: 'path-escapes',
    ref: 'RFC 3986 §6.2.2.1, §6.2.2.2',
    must: 'escaped unreserved characters are decoded, other escapes kept with upper-case hex; the query untouched',
    request: `GET /%7Euser/%61%2fb?q=%61%2e HTTP/1.1\r\n${H}\r\n`,
    status: 200,
    backend: { requestLine: 'GET /~user/a%2Fb?q=%61%2e HTTP/1.1' },
  },
  {
    id: 'path-bad-escape',
    ref: 'RFC 3986 §2.1',
    must: 'a % not followed by two hex digits in the path: 400, never forwarded',
    request: `GET /a/%zz HTTP/1.1\r\n${H}\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'obs-fold',
    ref: 'RFC 9112 §5.2',
    must: 'obs-fold in a request: 400, or replaced with SP before forwarding (never forwarded folded)',
    request: `GET /f HTTP/1.1\r\n${H}X-Folded: one\r\n two\r\n\r\n`,
    status: 400,
    backend: 'nothing',
  },
  {
    id: 'connection-listed',
    ref: 'RFC 9110 §7.6.1',
    must: 'Connection and every field it names, and the hop-by-hop fields, are removed before forwarding',
    request: `GET /k HTTP/1.1\r\n${H}Connection: keep-alive, x-secret, x-other\r\nX-Secret: s\r\nX-Other: o\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\n\r\n`,
    status: 200,
    backend: {
      has: { 'x-kept': 'yes' },
      lacks: ['x-secret', 'x-other', 'keep-alive', 'te', 'proxy-connection'],
      ownConnectionOnly: true,
    },
  },
  {
    id: 'expect-100-continue',
    ref: 'RFC 9110 §10.1.1',
    must: 'Expect: 100-continue: a 100 (or a final answer) before the body is sent; then the body is forwarded',
    request: `POST /e HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n`,
    body: 'hello',
    status: 200,
    continueFirst: true,
    backend: { requestLine: 'POST /e HTTP/1.1', body: 'hello' },
  },
  {
    id: 'uri-too-long',
    ref: 'RFC 9112 §3, RFC 9110 §15.5.15',
    must: 'a request-target longer than the server parses: 414',
    request: `GET /${long(20_000)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
    backend: 'nothing',
  },
  {
    id: 'uri-long-in-limit',
    ref: 'RFC 9112 §3',
    must: 'a long target within the limit (8,000 octets recommended to be supported) is forwarded',
    request: `GET /${long(7_900)} HTTP/1.1\r\n${H}\r\n`,
    status: 200,
    backend: { requestLine: `GET /${long(7_900)} HTTP/1.1` },
  },
  {
    id: 'headers-too-large',
    ref: 'RFC 6585 §5 (via RFC 9110 §15.5)',
    must: 'a header section larger than the server accepts: 431',
    request: `GET /big HTTP/1.1\r\n${H}${Array.from({ length: 40 }, (_, i) => `X-H${i}: ${long(1000)}\r\n`).join('')}\r\n`,
    status: 431,
    backend: 'nothing',
  },
  {
    id: 'max-forwards-options-zero',
    ref: 'RFC 9110 §7.6.2',
    must: 'OPTIONS with Max-Forwards: 0 is answered by the proxy as the final recipient, not forwarded',
    request: `OPTIONS * HTTP/1.1\r\n${H}Max-Forwards: 0\r\n\r\n`,
    status: 200,
    backend: 'nothing',
  },
  {
    id: 'max-forwards-trace-zero',
    ref: 'RFC 9110 §7.6.2, §9.3.8',
    must: 'TRACE with Max-Forwards: 0 is answered by the proxy (final recipient), not forwarded',
    request: `TRACE /t HTTP/1.1\r\n${H}Max-Forwards: 0\r\n\r\n`,
    status: 405,
    backend: 'nothing',
  },
  {
    id: 'max-forwards-decrement',
    ref: 'RFC 9110 §7.6.2',
    must: 'OPTIONS with Max-Forwards: 3 is forwarded with Max-Forwards: 2',
    request: `OPTIONS /o HTTP/1.1\r\n${H}Max-Forwards: 3\r\n\r\n`,
    status: 200,
    backend: { requestLine: 'OPTIONS /o HTTP/1.1', has: { 'max-forwards': '2' } },
  },
];
