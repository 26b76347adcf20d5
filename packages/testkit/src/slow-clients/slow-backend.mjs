// The backend of the slow-client test and bench (slowhttptest.ts), in a process of its own (so
// that the attack's traffic to it does not share an event loop with the normal client measured): /health, /big?mb=N
// (a large answer) and, for anything else, "ok" once the whole request body has arrived.
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const chunk = Buffer.alloc(1024 * 1024, 7);
createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url.startsWith('/big')) {
    const mb = Number(new URL(req.url, 'http://x').searchParams.get('mb') ?? '1');
    res.writeHead(200, { 'content-length': String(mb * chunk.length) });
    let sent = 0;
    const write = () => {
      while (sent < mb) {
        sent++;
        if (!res.write(chunk)) {
          res.once('drain', write);
          return;
        }
      }
      res.end();
    };
    return write();
  }
  req.resume();
  req.on('end', () => res.end('ok'));
}).listen(port, '127.0.0.1');
