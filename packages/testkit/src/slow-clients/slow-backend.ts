// The backend of the slow-client test and bench (slowhttptest.ts), in a process of its own (so
// that the attack's traffic to it does not share an event loop with the normal client measured):
// /health, /big?mb=N (a large answer) and, for anything else, "ok" once the whole request body
// has arrived. Node runs this file as it is (type stripping), so it imports nothing of the repo.
// Its large answer is also the load balancer's echo server's (lb-fixtures.ts): one writer.
import { createServer, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

const MIB = Buffer.alloc(1024 * 1024, 7);

/** The N of a `/big?mb=N` URL (1 when absent). */
export function bigAnswerMiB(url: string): number {
  return Number(new URL(url, 'http://x').searchParams.get('mb') ?? '1');
}

/** `mb` MiB with its content-length, written only as fast as the client reads (it never buffers). */
export function sendMiB(res: ServerResponse, mb: number, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { ...headers, 'content-length': String(mb * MIB.length) });
  let sent = 0;
  const write = () => {
    while (sent < mb) {
      sent++;
      if (!res.write(MIB)) {
        res.once('drain', write);
        return;
      }
    }
    res.end();
  };
  write();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  createServer((req, res) => {
    if (req.url === '/health') return res.end('ok');
    if (req.url?.startsWith('/big')) return sendMiB(res, bigAnswerMiB(req.url));
    req.resume();
    req.on('end', () => res.end('ok'));
  }).listen(Number(process.env.PORT), '127.0.0.1');
}
