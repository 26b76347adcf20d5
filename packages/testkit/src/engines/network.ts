// One cluster's network: a bridge 10.77.N.1/24, one veth and netns per engine, and the FORWARD
// rule the host's Docker would otherwise drop their traffic with.
import { spawnSync } from 'node:child_process';
import { clusterName, engineAddress, engineName, run, tryRun } from './host.js';

export function createNetwork(id: number, count: number): void {
  const bridge = clusterName(id);
  run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `10.77.${id}.1/24`, 'dev', bridge]);
  run('ip', ['link', 'set', bridge, 'up']);
  // The host's Docker sets FORWARD to DROP; without this, engine-to-engine traffic (swarm join
  // on 2377, gossip, the overlay's VXLAN) is dropped.
  run('iptables', ['-I', 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT']);
  for (let i = 0; i < count; i++) {
    const ns = engineName(id, i);
    const hostEnd = `${bridge}v${i}`;
    const inner = `${bridge}e${i}`;
    run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', inner]);
    run('ip', ['link', 'set', hostEnd, 'master', bridge]);
    run('ip', ['link', 'set', hostEnd, 'up']);
    run('ip', ['link', 'set', inner, 'netns', ns]);
    const inNs = (...args: string[]) => run('ip', ['-n', ns, ...args]);
    inNs('link', 'set', 'lo', 'up');
    inNs('link', 'set', inner, 'name', 'eth0');
    inNs('addr', 'add', `${engineAddress(id, i)}/24`, 'dev', 'eth0');
    inNs('link', 'set', 'eth0', 'up');
    // No default route on purpose: nothing outside the bridge is a target, and a pull the
    // engine tries (a Swarm task's image is re-resolved on every node) fails at once with
    // "network unreachable" instead of hanging ~20 s on a route that leads nowhere.
  }
}

export function removeNetwork(id: number, engineCount: number): void {
  const bridge = clusterName(id);
  for (let i = 0; i < engineCount; i++) {
    tryRun('ip', ['link', 'del', `${bridge}v${i}`]);
    tryRun('ip', ['netns', 'del', engineName(id, i)]);
  }
  tryRun('ip', ['link', 'del', bridge]);
  // -D removes one copy: loop in case an earlier run was killed between two inserts
  for (let n = 0; n < 5; n++) {
    const res = spawnSync('iptables', ['-D', 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'], {
      stdio: 'ignore',
    });
    if (res.status !== 0) break;
  }
}
