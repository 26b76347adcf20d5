// Pure: may a failed attempt be sent to another backend? Only idempotent requests whose
// body (if any) was not consumed, and only when the failure happened before the backend
// could have acted on it (the connection was never established). A request that reached
// a backend and timed out is not retried: it may have done its work.
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
  return failure === 'connect-error' || failure === 'connect-timeout';
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
