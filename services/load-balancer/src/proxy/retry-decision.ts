// Pure: may a failed attempt be sent to another backend? Only idempotent requests without
// a body (RFC 9110 §9.2.2: repeating them is safe), and only when the connection failed
// or was reset before any response header arrived (the caller checks the client has
// seen nothing): a backend killed mid-request must not turn its in-flight GETs into 502s.
// A request that timed out is not retried: a slow backend would get the work twice.
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export type FailureKind =
  | 'connect-error'
  | 'connect-timeout'
  | 'headers-timeout'
  | 'body-timeout'
  | 'reset'
  | 'other';

export function mayRetry(
  method: string,
  hasBody: boolean,
  failure: FailureKind,
  attempt: number,
  retries: number,
): boolean {
  if (attempt >= retries) return false;
  if (hasBody || !IDEMPOTENT.has(method)) return false;
  return failure === 'connect-error' || failure === 'connect-timeout' || failure === 'reset';
}

/** Classifies an undici/socket error. */
export function classifyFailure(err: unknown): FailureKind {
  const code = (err as { code?: string } | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect-error';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect-timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'headers-timeout';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'body-timeout';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset';
    default:
      return 'other';
  }
}
