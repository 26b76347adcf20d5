// CPU time a process (and its children: an NGINX master and its worker) has used, from
// /proc (Linux). On a machine shared with other work, requests per CPU second stay a fair
// comparison where requests per wall-clock second mostly measure the scheduler.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return ticks;
}

/** utime + stime of one process, seconds (fields 14 and 15 of /proc/<pid>/stat, after the command name). */
function ownCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** CPU seconds of a process and its descendants (threads are counted in their process). */
export function treeCpuSeconds(pid: number): number {
  let total = ownCpuSeconds(pid);
  let children: string[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    // no children file: the process alone
  }
  for (const c of children) total += treeCpuSeconds(Number(c));
  return total;
}
