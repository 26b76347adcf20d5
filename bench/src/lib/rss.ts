// Resident memory of a process from /proc (Linux): what the kernel charges it, the figure
// an operator sees in `docker stats` or top, not the V8 heap alone.
import { readFileSync } from 'node:fs';

function field(pid: number, name: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no ${name} for pid ${pid}`);
  return kb / 1024;
}

/** Current resident set, MiB. */
export const rssMiB = (pid: number) => field(pid, 'VmRSS');
/** Peak resident set since the process started (high-water mark), MiB. */
export const peakRssMiB = (pid: number) => field(pid, 'VmHWM');

/** Peak resident set of a process and its children (an NGINX master and its worker), MiB. */
export function treePeakRssMiB(pid: number): number {
  let total = peakRssMiB(pid);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no children file (old kernel): the process alone
  }
  for (const c of children) total += treePeakRssMiB(Number(c));
  return total;
}

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
