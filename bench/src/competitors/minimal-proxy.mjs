// The ceiling any Node proxy can reach here: node:http in front of one undici Pool, the
// response streamed straight into the client's response, hop-by-hop headers dropped, and
// nothing else (no balancing, no metrics, no retries). Headroom is reported as a ratio of it.
// With TLS_CERT and TLS_KEY (PEM files) it is node:https with that certificate and
// otherwise the same: the ceiling for a Node TLS proxy.
//   env: PORT, UPSTREAM, TLS_CERT, TLS_KEY
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
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

const createServer = process.env.TLS_CERT
  ? (handler) =>
      createHttpsServer(
        {
          cert: readFileSync(process.env.TLS_CERT),
          key: readFileSync(process.env.TLS_KEY),
          minVersion: 'TLSv1.2',
        },
        handler,
      )
  : (handler) => createHttpServer(handler);

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
