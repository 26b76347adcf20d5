// The one writer of the proxy port's own answers (PROXY_ERRORS in errors.ts): the same JSON
// shape as the admin API's errors, on a response (sendProxyError) or, for a request Node's
// parser refused before there was one, as raw bytes for the socket (rawProxyError).
import { type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http';
import { PROXY_ERRORS, type ProxyErrorKind } from '../errors.js';

const JSON_TYPE = 'application/json; charset=utf-8';

function body(kind: ProxyErrorKind, message: string): string {
  const { code, status } = PROXY_ERRORS[kind];
  return JSON.stringify({ statusCode: status, code, error: STATUS_CODES[status] ?? 'Error', message });
}

/**
 * Answers `res` with the error. Once the backend's response has started, the client cannot be
 * told any more: the connection is cut, so it sees a truncated answer rather than a wrong one.
 */
export function sendProxyError(
  res: ServerResponse,
  kind: ProxyErrorKind,
  message: string,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  res.writeHead(PROXY_ERRORS[kind].status, { 'content-type': JSON_TYPE, ...headers });
  res.end(body(kind, message));
}

/** A whole HTTP/1.1 response that closes the connection, for the parser's errors (clientError). */
export function rawProxyError(kind: ProxyErrorKind, message: string): string {
  const { status } = PROXY_ERRORS[kind];
  const text = body(kind, message);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nconnection: close\r\n` +
    `content-type: ${JSON_TYPE}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}
