// A client on a raw socket: sends bytes exactly as written (no client library would send a
// malformed request), and reads what comes back until the connection closes or a whole
// response (by content-length) has arrived.
import { connect } from 'node:net';

export interface RawResponse {
  /** Every byte received, as latin1 text. */
  raw: string;
  /** Status codes in order (a 100 Continue first, when one came). */
  statuses: number[];
  /** The final response's status (0: the connection closed with no answer). */
  status: number;
}

export interface RawSendOptions {
  /** Bytes sent after the first ones once a 100 Continue arrives, or after `orAfterMs` (RFC 9110 §10.1.1). */
  afterContinue?: { bytes: string; orAfterMs: number };
  timeoutMs?: number;
}

export function statusesOf(raw: string): number[] {
  return [...raw.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}

function finalComplete(raw: string): boolean {
  const starts = [...raw.matchAll(/HTTP\/1\.[01] (\d{3}) /g)];
  const last = starts.at(-1);
  if (!last || last[1] === '100') return false;
  const from = last.index ?? 0;
  const headEnd = raw.indexOf('\r\n\r\n', from);
  if (headEnd < 0) return false;
  const cl = /\r\ncontent-length: *(\d+)/i.exec(raw.slice(from, headEnd));
  return cl !== null && raw.length - (headEnd + 4) >= Number(cl[1]);
}

export function sendRaw(port: number, bytes: string, opts: RawSendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    let thenSent = false;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(thenTimer);
      socket.destroy();
      const statuses = statusesOf(raw);
      resolve({ raw, statuses, status: statuses.filter((s) => s !== 100).at(-1) ?? 0 });
    };
    const sendThen = () => {
      if (thenSent || !opts.afterContinue) return;
      thenSent = true;
      socket.write(opts.afterContinue.bytes, 'latin1');
    };
    const timer = setTimeout(
      () => reject(new Error(`no complete answer in time; got ${JSON.stringify(raw)}`)),
      opts.timeoutMs ?? 5_000,
    );
    const thenTimer = opts.afterContinue ? setTimeout(sendThen, opts.afterContinue.orAfterMs) : undefined;
    socket.on('connect', () => socket.write(bytes, 'latin1'));
    socket.on('data', (d: Buffer) => {
      raw += d.toString('latin1');
      if (opts.afterContinue && statusesOf(raw).includes(100)) sendThen();
      if (finalComplete(raw) && (!opts.afterContinue || thenSent)) done();
    });
    socket.on('error', () => undefined);
    socket.on('close', done);
  });
}
