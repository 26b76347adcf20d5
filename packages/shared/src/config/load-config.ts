// Env → typed config, or one clear line per bad field and exit 1. Used at the top of
// every service's main.ts; tests call parseConfig directly.
import type { z } from 'zod';
import { CONFIG_ERROR_CODE } from '../errors.js';

export interface ConfigIssue {
  field: string;
  value: string | undefined;
  message: string;
}

export class ConfigError extends Error {
  readonly code = CONFIG_ERROR_CODE;
  constructor(
    readonly service: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`invalid configuration for ${service}:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const shown = issue.value === undefined ? '(unset)' : JSON.stringify(issue.value);
  return `  ${issue.field}=${shown}: ${issue.message}`;
}

type Env = Record<string, string | undefined>;

export function parseConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: Env = process.env,
): z.output<S> {
  const keys = Object.keys(schema.shape);
  const input: Env = {};
  for (const key of keys) input[key] = env[key];
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '(config)');
    return { field, value: env[field], message: issue.message };
  });
  throw new ConfigError(service, issues);
}

/** parseConfig for main.ts: on error prints each bad field on stderr and exits 1. */
export function loadConfig<S extends z.ZodObject>(
  service: string,
  schema: S,
  env: Env = process.env,
): z.output<S> {
  try {
    return parseConfig(service, schema, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
