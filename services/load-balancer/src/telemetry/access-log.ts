// ACCESS_LOG=json|common: one line per request the proxy answers (service, backend, status,
// duration, bytes, retries), written straight to stdout beside pino's lines. Off by default;
// when on it costs one string per request (JSON.stringify of the two client-sent fields, no
// object or closure kept), built only after the response is done.
export type AccessLogFormat = 'json' | 'common';

export class AccessLog {
  constructor(
    private readonly format: AccessLogFormat,
    private readonly write: (line: string) => void = (line) => void process.stdout.write(line),
  ) {}

  /**
   * `backend`: the id of the backend that answered ('' when none: no route, no backend);
   * `retries`: attempts after the first; `ms`: arrival to the end of the response.
   */
  request(
    service: string,
    backend: string,
    method: string,
    url: string,
    host: string | undefined,
    status: number,
    ms: number,
    bytes: number,
    retries: number,
  ): void {
    const duration = Math.round(ms * 1000) / 1000;
    if (this.format === 'json') {
      this.write(
        `{"time":"${new Date().toISOString()}","service":${JSON.stringify(service)},"backend":${JSON.stringify(backend)},"method":${JSON.stringify(method)},"host":${JSON.stringify(host ?? '')},"path":${JSON.stringify(url)},"status":${status},"duration_ms":${duration},"bytes":${bytes},"retries":${retries}}\n`,
      );
      return;
    }
    // Common Log Format's fields, then service, backend, duration and retries
    this.write(
      `${host ?? '-'} - - [${new Date().toISOString()}] "${method} ${url.replace(/["\s]/g, encodeURIComponent)} HTTP/1.1" ${status} ${bytes} service=${service || '-'} backend=${backend || '-'} duration_ms=${duration} retries=${retries}\n`,
    );
  }
}
