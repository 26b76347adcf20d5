// The ceiling any Node proxy can reach here: node:http in front of one undici Pool, the
// response streamed straight into the client's response, hop-by-hop headers dropped, and
// nothing else (no balancing, no metrics, no retries). Headroom is reported as a ratio of it.
//   env: PORT, UPSTREAM
import { createServer } from 'node:http';
import { Pool } from 'undici';

const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);
const pool = new Pool(process.env.UPSTREAM, { connections: 128 });

function forwardable(headers) {
  const out = {};
  for (const k in headers) if (!HOP.has(k)) out[k] = headers[k];
  return out;
}

createServer((req, res) => {
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  pool.stream(
    {
      path: req.url,
      method: req.method,
      headers: forwardable(req.headers),
      body: bodyless ? null : req,
      opaque: res,
    },
    ({ statusCode, headers, opaque }) => {
      opaque.writeHead(statusCode, forwardable(headers));
      return opaque;
    },
    (err) => {
      if (err && !res.headersSent) {
        res.statusCode = 502;
        res.end();
      } else if (err) res.destroy(err);
    },
  );
}).listen(Number(process.env.PORT), '127.0.0.1');
