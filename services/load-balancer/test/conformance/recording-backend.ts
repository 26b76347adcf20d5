// A backend on a raw socket that records the exact bytes each request arrives with (head and
// body, as the proxy framed them) and answers 200 once the request is complete. Raw, not
// node:http: the conformance table asserts what crossed the wire, which a parser would
// normalise (folded lines, repeated fields, header case, chunk framing).
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

export interface Recorded {
  /** The request head as received, up to and including the blank line. */
  head: string;
  /** The body bytes as received (chunk framing included, when chunked). */
  rawBody: string;
  /** The body, chunk framing removed. */
  body: string;
  requestLine: string;
  /** Header lines, names lower-cased, in order (repeats kept). */
  headers: Array<[string, string]>;
}

export interface RecordingBackend {
  url: string;
  /** Every request but the balancer's health checks, oldest first. */
  requests: Recorded[];
  close(): Promise<void>;
}

/** Bytes of the body when it is complete, or undefined while more must come. */
function completeBody(headers: Array<[string, string]>, rest: Buffer): Buffer | undefined {
  const te = headers.find(([k]) => k === 'transfer-encoding')?.[1];
  if (te?.toLowerCase().includes('chunked')) {
    const end = rest.indexOf('\r\n0\r\n');
    const at = rest.subarray(0, 3).toString() === '0\r\n' ? 0 : end >= 0 ? end + 2 : -1;
    if (at < 0) return undefined;
    const done = rest.indexOf('\r\n\r\n', at);
    return done < 0 ? undefined : rest.subarray(0, done + 4);
  }
  const cl = Number(headers.find(([k]) => k === 'content-length')?.[1] ?? '0');
  return rest.length >= cl ? rest.subarray(0, cl) : undefined;
}

function dechunk(raw: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = Number.parseInt(raw.slice(at, eol).split(';')[0] ?? '', 16);
    if (!(size > 0)) return out;
    out += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

function serve(socket: Socket, requests: Recorded[]): void {
  let buf = Buffer.alloc(0);
  socket.on('error', () => undefined);
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const split = buf.indexOf('\r\n\r\n');
      if (split < 0) return;
      const head = buf.subarray(0, split + 4).toString('latin1');
      const [requestLine = '', ...lines] = head.slice(0, -4).split('\r\n');
      const headers = lines.map((l): [string, string] => {
        const colon = l.indexOf(':');
        return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
      });
      const body = completeBody(headers, buf.subarray(split + 4));
      if (body === undefined) return;
      buf = buf.subarray(split + 4 + body.length);
      if (!requestLine.startsWith('GET /health ')) {
        const rawBody = body.toString('latin1');
        const chunked = headers.some(
          ([k, v]) => k === 'transfer-encoding' && v.toLowerCase().includes('chunked'),
        );
        requests.push({ head, rawBody, body: chunked ? dechunk(rawBody) : rawBody, requestLine, headers });
      }
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 7\r\n\r\nbackend');
    }
  });
}

export async function startRecordingBackend(): Promise<RecordingBackend> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    serve(s, requests);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
