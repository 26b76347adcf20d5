import { Writable } from 'node:stream';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import { describe, expect, it } from 'vitest';
import { PRETTY_OPTIONS } from './logger.js';

describe('pretty logs for a terminal', () => {
  it('one line per event: time, level, service, message and its fields', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk.toString();
        done();
      },
    });
    const stream = pretty({ ...PRETTY_OPTIONS, colorize: false, destination: sink, sync: true });
    const log = pino({ name: 'autoscaler', base: { service: 'autoscaler', pid: 1, hostname: 'h' } }, stream);
    log.info({ replica: 'backend-4', reason: 'ScaleUp' }, 'local replica started');
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(autoscaler\): local replica started \{"replica":"backend-4","reason":"ScaleUp"\}$/,
    );
  });
});
