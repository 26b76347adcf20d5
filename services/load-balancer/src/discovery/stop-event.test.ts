import { describe, expect, it } from 'vitest';
import { type ContainerEvent, stopDecision } from './stop-event.js';

const ev = (Action: string, attrs: Record<string, string> = {}): ContainerEvent => ({
  Type: 'container',
  Action,
  Actor: { ID: 'c0ffee'.padEnd(64, '0'), Attributes: { name: 'web-1', ...attrs } },
});

describe('stopDecision: engine events that drain a container', () => {
  it.each([
    ['docker stop: kill with SIGTERM', ev('kill', { signal: '15' }), 'stopping'],
    ['a stop signal by name', ev('kill', { signal: 'SIGTERM' }), 'stopping'],
    ['docker kill (SIGKILL)', ev('kill', { signal: '9' }), 'stopping'],
    ['SIGQUIT (nginx’s stop signal)', ev('kill', { signal: '3' }), 'stopping'],
    ['a reload (SIGHUP) is not a stop', ev('kill', { signal: '1' }), 'none'],
    ['SIGUSR1 is not a stop', ev('kill', { signal: 'SIGUSR1' }), 'none'],
    ['stop (after the exit)', ev('stop'), 'stopping'],
    ['die', ev('die', { exitCode: '0' }), 'stopping'],
    ['start lifts it', ev('start'), 'running'],
    ['unpause lifts it', ev('unpause'), 'running'],
    ['other actions: nothing', ev('rename'), 'none'],
    ['a network event: nothing', { Type: 'network', Action: 'kill', Actor: { ID: 'x' } }, 'none'],
    ['no actor id: nothing', { Type: 'container', Action: 'kill' }, 'none'],
  ] as Array<[string, ContainerEvent, string]>)('%s → %s', (_name, e, kind) => {
    expect(stopDecision(e).kind).toBe(kind);
  });
  it('says why, naming the container and the signal', () => {
    const d = stopDecision(ev('kill', { signal: '15' }));
    expect(d.kind === 'stopping' && d.why).toBe(
      'container web-1 is stopping (engine sent signal 15): draining',
    );
  });
});
