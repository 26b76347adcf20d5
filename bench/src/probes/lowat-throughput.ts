// Probe: does net.ipv4.tcp_notsent_lowat slow a fast client's large download through the
// balancer? Inside `unshare -n sh -c 'ip link set lo up && …'` (it writes the namespace's
// sysctl): 64 MiB from the slow-clients backend through Headroom, alternating the kernel's
// default and 128 KiB, RUNS times each; MiB/s and the balancer's CPU seconds per GiB.
import { writeFileSync } from 'node:fs';
import { slowClientsBalancerEnv, startSlowBackend } from '@headroom/testkit';
import { treeCpuSeconds } from '../lib/cpu.js';
import { healthyBackends, startHeadroom, waitFor } from '../lib/procs.js';

const runs = Number(process.env.RUNS ?? 5);
const backend = await startSlowBackend();
const lb = await startHeadroom(slowClientsBalancerEnv(backend.url));
try {
  await waitFor(async () => (await healthyBackends(lb.admin)) === 1, { timeoutMs: 20_000 });
  const rows: Record<string, number[][]> = { default: [], '131072': [] };
  for (let i = 0; i < runs; i++)
    for (const low of i % 2 ? ['131072', 'default'] : ['default', '131072']) {
      writeFileSync('/proc/sys/net/ipv4/tcp_notsent_lowat', low === 'default' ? '4294967295' : low);
      const cpu0 = treeCpuSeconds(lb.pid);
      const t0 = performance.now();
      const res = await fetch(`${lb.proxy}/big?mb=64`);
      let n = 0;
      for await (const c of res.body!) n += (c as Uint8Array).length;
      const s = (performance.now() - t0) / 1000;
      rows[low]!.push([n / 1048576 / s, ((treeCpuSeconds(lb.pid) - cpu0) / n) * 1073741824]);
    }
  for (const [k, v] of Object.entries(rows)) {
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stdout.write(
      `${k}: ${med(v.map((r) => r[0]!)).toFixed(0)} MiB/s (${v.map((r) => r[0]!.toFixed(0)).join(', ')}), balancer CPU ${med(v.map((r) => r[1]!)).toFixed(2)} s/GiB\n`,
    );
  }
} finally {
  await lb.stop();
  await backend.stop();
}
