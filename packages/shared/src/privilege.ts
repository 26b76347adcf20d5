// Dropping root at start. The Docker socket's group differs between hosts (999, 107, 998…),
// and a compose file cannot read it, so a container that joins "the docker group" by number
// only works where someone typed the right number. Instead the balancer and the autoscaler
// start as root and, before anything else (before any file is read or written: the admin token
// file must belong to the unprivileged user), become RUN_AS with the group of each Docker
// socket they use as a supplementary group, whatever its number is on this host. After that
// the process holds no capability and cannot become root again.
//
// The decision is a pure function (planPrivilegeDrop); runAsConfiguredUser is the thin part
// that stats the sockets, calls setgroups/setgid/setuid and logs what it now runs as.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { env } from './config/env-fields.js';
import { parseConfig } from './config/load-config.js';

export const privilegeFields = {
  RUN_AS: env.optionalString(
    'Only when started as root (uid 0): the user to become before anything else, a name from /etc/passwd or uid[:gid], keeping the group of each Docker socket used (DOCKER_SOCKET, unix:// DOCKER_HOSTS) as a supplementary group, so the socket works whatever its group id on the host. The images set `node`; compose starts the balancer and the autoscaler as root for this. Empty: stay root. Not root: ignored.',
  ),
};
export const privilegeConfigSchema = z.object(privilegeFields);

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

/** The entries of an /etc/passwd text (name:x:uid:gid:…); malformed lines are skipped. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || f[0] === '' || line.trim().startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === '' || f[3] === '') continue;
    out.push({ name: f[0] as string, uid, gid });
  }
  return out;
}

const ID = /^\d{1,10}$/;

/**
 * RUN_AS as a user: a name looked up in passwd, a uid (its passwd gid, else the same number as
 * gid) or uid:gid (as `docker run --user`). Undefined with the reason when it names nobody.
 */
export function resolveRunAs(
  runAs: string,
  passwd: PasswdEntry[],
): { ok: true; user: PasswdEntry } | { ok: false; reason: string } {
  const [who, group, ...rest] = runAs.split(':');
  if (who === undefined || who === '' || rest.length > 0 || (group !== undefined && !ID.test(group)))
    return { ok: false, reason: 'expected a user name, a uid or uid:gid' };
  if (ID.test(who)) {
    const uid = Number(who);
    const known = passwd.find((p) => p.uid === uid);
    const gid = group !== undefined ? Number(group) : (known?.gid ?? uid);
    return { ok: true, user: { name: known?.name ?? who, uid, gid } };
  }
  const entry = passwd.find((p) => p.name === who);
  if (!entry) return { ok: false, reason: `no user "${who}" in /etc/passwd` };
  return { ok: true, user: group !== undefined ? { ...entry, gid: Number(group) } : entry };
}

export interface SocketGroup {
  path: string;
  /** The socket's group id; undefined when it could not be stat'ed (`error` says why). */
  gid: number | undefined;
  error?: string;
}

export type PrivilegePlan =
  | { action: 'keep'; reason: 'not-root' | 'no-run-as' }
  | { action: 'drop'; user: string; uid: number; gid: number; groups: number[] }
  | { action: 'refuse'; reason: string };

/**
 * What to do at start. `uid`: the process's uid now. Root with RUN_AS: drop to that user with
 * its own group first and each socket's group after it (duplicates removed). Root without
 * RUN_AS: stay (a deliberate choice: the images set it). Not root: nothing to drop. RUN_AS
 * naming no user, or uid 0: refuse (running as root by mistake is worse than not starting).
 */
export function planPrivilegeDrop(input: {
  uid: number;
  runAs: string | undefined;
  passwd: PasswdEntry[];
  sockets: SocketGroup[];
}): PrivilegePlan {
  if (input.uid !== 0) return { action: 'keep', reason: 'not-root' };
  if (input.runAs === undefined || input.runAs === '') return { action: 'keep', reason: 'no-run-as' };
  const resolved = resolveRunAs(input.runAs, input.passwd);
  if (!resolved.ok) return { action: 'refuse', reason: resolved.reason };
  const { user } = resolved;
  if (user.uid === 0) return { action: 'refuse', reason: 'is root: name an unprivileged user' };
  const groups = [user.gid];
  for (const s of input.sockets) if (s.gid !== undefined && !groups.includes(s.gid)) groups.push(s.gid);
  return { action: 'drop', user: user.name, uid: user.uid, gid: user.gid, groups };
}

/** The unix socket paths a service uses: the unix:// entries of DOCKER_HOSTS, else DOCKER_SOCKET. */
export function dockerSocketPaths(socket: string, hosts: readonly string[] = []): string[] {
  if (hosts.length === 0) return [socket];
  return hosts.filter((h) => h.startsWith('unix://')).map((h) => h.slice('unix://'.length));
}

export interface PrivilegeResult {
  plan: PrivilegePlan;
  uid: number;
  gid: number;
  groups: number[];
  sockets: SocketGroup[];
  /** Sockets that exist but that this process cannot read and write after the drop. */
  unreachable: string[];
}

function statSockets(paths: string[]): SocketGroup[] {
  return paths.map((path) => {
    try {
      return { path, gid: statSync(path).gid };
    } catch (err) {
      return { path, gid: undefined, error: (err as NodeJS.ErrnoException).code ?? String(err) };
    }
  });
}

function readPasswd(): PasswdEntry[] {
  try {
    return parsePasswd(readFileSync('/etc/passwd', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Call first in main.ts, right after the config and the logger: as root with RUN_AS set, becomes
 * that user keeping the sockets' groups; logs once what it runs as (uid, gid, groups) and why.
 * RUN_AS naming no user: prints the field and the reason and exits 1, like invalid config. A
 * failing setuid/setgid (a container without CAP_SETUID/CAP_SETGID): logs it and exits 1.
 */
export function runAsConfiguredUser(
  service: string,
  log: Pick<Logger, 'info' | 'warn' | 'fatal'>,
  socketPaths: string[],
  environment: Record<string, string | undefined> = process.env,
): PrivilegeResult {
  const { RUN_AS: runAs } = parseConfigOrExit(service, environment);
  const sockets = statSockets(socketPaths);
  const plan = planPrivilegeDrop({ uid: process.getuid?.() ?? -1, runAs, passwd: readPasswd(), sockets });
  if (plan.action === 'refuse') {
    console.error(`invalid configuration for ${service}:\n  RUN_AS=${JSON.stringify(runAs)}: ${plan.reason}`);
    process.exit(1);
  }
  if (plan.action === 'drop') {
    try {
      // groups first: only root may set them; then the gid, then the uid (which ends root)
      process.setgroups?.(plan.groups);
      process.setgid?.(plan.gid);
      process.setuid?.(plan.uid);
      if (process.getuid?.() !== plan.uid || process.getgid?.() !== plan.gid)
        throw new Error(`still uid ${process.getuid?.()} gid ${process.getgid?.()} after setuid/setgid`);
    } catch (err) {
      log.fatal(
        { runAs, uid: plan.uid, gid: plan.gid, groups: plan.groups, err: (err as Error).message },
        `cannot drop root to ${plan.user}: ${(err as Error).message}`,
      );
      process.exit(1);
    }
  }
  const unreachable = sockets
    .filter((s) => s.gid !== undefined)
    .filter((s) => {
      try {
        accessSync(s.path, constants.R_OK | constants.W_OK);
        return false;
      } catch {
        return true;
      }
    })
    .map((s) => s.path);
  const result: PrivilegeResult = {
    plan,
    uid: process.getuid?.() ?? -1,
    gid: process.getgid?.() ?? -1,
    groups: process.getgroups?.() ?? [],
    sockets,
    unreachable,
  };
  const fields = { uid: result.uid, gid: result.gid, groups: result.groups, sockets, runAs: runAs ?? null };
  if (plan.action === 'drop')
    log.info(
      fields,
      `dropped root: running as ${plan.user} (uid ${result.uid}, gid ${result.gid}, groups ${result.groups.join(',')})`,
    );
  else if (plan.reason === 'no-run-as') log.info(fields, 'running as root: RUN_AS is empty');
  else log.info(fields, `running as uid ${result.uid}${runAs ? ' (not root: RUN_AS not needed)' : ''}`);
  if (unreachable.length > 0)
    log.warn(
      { ...fields, unreachable },
      `cannot read and write ${unreachable.join(', ')} as uid ${result.uid}: Docker calls will fail (start as root with RUN_AS, or add the socket's group)`,
    );
  return result;
}

function parseConfigOrExit(service: string, environment: Record<string, string | undefined>) {
  try {
    return parseConfig(service, privilegeConfigSchema, environment);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
