// The admin token when it is not in the environment: ADMIN_TOKEN_FILE. The balancer creates
// the file on its first start (compose keeps it in a named volume, so the token survives
// restarts and the user never has to invent one); the autoscaler reads the same file. A token
// in ADMIN_TOKEN always wins. The decision is a pure function; the file I/O is the thin part.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';

export type AdminTokenSource = 'env' | 'file' | 'generated' | 'none';

export type AdminTokenPlan =
  | { action: 'use'; token: string; source: 'env' | 'file' }
  | { action: 'generate' }
  | { action: 'wait' }
  | { action: 'none' };

/**
 * What to do with the token sources at start. `fileToken` is the file's trimmed content
 * (undefined: no file, or empty). `create`: this service may write the file (the balancer);
 * otherwise it waits for whoever does (the autoscaler).
 */
export function planAdminToken(input: {
  envToken: string | undefined;
  file: string | undefined;
  fileToken: string | undefined;
  create: boolean;
}): AdminTokenPlan {
  if (input.envToken !== undefined && input.envToken !== '')
    return { action: 'use', token: input.envToken, source: 'env' };
  if (input.file === undefined) return { action: 'none' };
  if (input.fileToken !== undefined && input.fileToken !== '')
    return { action: 'use', token: input.fileToken, source: 'file' };
  return input.create ? { action: 'generate' } : { action: 'wait' };
}

/** A new token: 24 random bytes, hex (what `openssl rand -hex 24` gives). */
export function generateAdminToken(): string {
  return randomBytes(24).toString('hex');
}

export class AdminTokenError extends Error {
  override name = 'AdminTokenError';
}

export interface ResolveAdminTokenOptions {
  envToken: string | undefined;
  file: string | undefined;
  /** The balancer: write a generated token when the file is absent. */
  create: boolean;
  /** Without `create`: how long to wait for the file to appear. */
  waitMs?: number;
  pollMs?: number;
  log: Pick<Logger, 'info' | 'warn'>;
}

function readToken(file: string): string | undefined {
  try {
    const t = readFileSync(file, 'utf8').trim();
    return t === '' ? undefined : t;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AdminTokenError(`ADMIN_TOKEN_FILE ${file}: cannot be read (${(err as Error).message})`);
  }
}

/**
 * Writes the token so a reader never sees a partial file and two starting balancers never
 * both win: a temporary file next to it, hard-linked to the name (fails if it exists). Mode
 * 0600: the balancer and the autoscaler run as the same user. Returns false when another
 * process created the file first.
 */
function writeToken(file: string, token: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new AdminTokenError(
      `ADMIN_TOKEN_FILE ${file}: absent and cannot be created (${(err as Error).message}); set ADMIN_TOKEN or make its directory writable`,
    );
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The admin token and where it came from; throws AdminTokenError with the reason. */
export async function resolveAdminToken(
  opts: ResolveAdminTokenOptions,
): Promise<{ token: string | undefined; source: AdminTokenSource }> {
  const { file, log } = opts;
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  let waiting = false;
  for (;;) {
    const plan = planAdminToken({
      envToken: opts.envToken,
      file,
      fileToken: file === undefined ? undefined : readToken(file),
      create: opts.create,
    });
    switch (plan.action) {
      case 'none':
        return { token: undefined, source: 'none' };
      case 'use':
        if (plan.source === 'env' && file !== undefined)
          log.info({ file }, 'ADMIN_TOKEN is set: it wins over ADMIN_TOKEN_FILE, which is not read');
        else if (plan.source === 'file') log.info({ file }, `admin token read from ${file}`);
        return { token: plan.token, source: plan.source };
      case 'generate': {
        const token = generateAdminToken();
        if (!writeToken(file as string, token)) continue; // another balancer wrote it: read that
        // warn, not info: it is the one line a user must find (it shows at LOG_LEVEL=warn too)
        log.warn(
          { adminToken: token, file },
          `admin token generated: ${token} (stored in ${file}; set ADMIN_TOKEN to use your own)`,
        );
        return { token, source: 'generated' };
      }
      case 'wait':
        if (!waiting) log.info({ file }, `waiting for the admin token in ${file} (the balancer writes it)`);
        waiting = true;
        if (Date.now() >= deadline)
          throw new AdminTokenError(
            `ADMIN_TOKEN_FILE ${file}: no token after ${opts.waitMs ?? 60_000} ms (the balancer writes it on its first start; or set ADMIN_TOKEN)`,
          );
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    }
  }
}
