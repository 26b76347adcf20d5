// Field builders for environment variables. Each field is a zod schema over the raw
// string (or undefined) that carries its default, what it expects and a doc line in
// its metadata, so the defaults live in the schema and the README table is printed
// from it (print-config-docs.ts).
import { z } from 'zod';
import { parseStaticBackend, type StaticBackendEntry } from './static-backend.js';

export interface FieldMeta {
  doc: string;
  default: string | undefined;
  expected: string;
  secret?: boolean;
}

const metaOf = new WeakMap<z.ZodType, FieldMeta>();

/** The documentation metadata of a field built here. */
export function fieldMeta(schema: z.ZodType): FieldMeta | undefined {
  return metaOf.get(schema);
}

type Parse<T> = (raw: string) => T | Invalid | undefined;

/** What a parser returns for a bad value when it can say why (the start-up line carries the reason). */
export class Invalid {
  constructor(readonly reason: string) {}
}

function build<T>(meta: FieldMeta, parse: Parse<T>, required: boolean) {
  const schema = z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const value = raw === undefined || raw.trim() === '' ? meta.default : raw.trim();
      if (value === undefined) {
        if (required) ctx.addIssue({ code: 'custom', message: `required: ${meta.expected}` });
        return undefined as T;
      }
      const out = parse(value);
      if (out === undefined || out instanceof Invalid) {
        const why = out instanceof Invalid ? `: ${out.reason}` : '';
        ctx.addIssue({ code: 'custom', message: `expected ${meta.expected}${why}` });
        return z.NEVER;
      }
      return out;
    });
  metaOf.set(schema, meta);
  return schema;
}

/** A field with a default (or required): its type never includes undefined. */
function withDefault<T>(expected: string, parse: Parse<T>) {
  return (def: string | number | boolean | undefined, doc: string) =>
    build<T>({ doc, default: def === undefined ? undefined : String(def), expected }, parse, true);
}

/** A field that may be absent: its type includes undefined. */
function optional<T>(expected: string, parse: Parse<T>) {
  return (doc: string, opts: { secret?: boolean } = {}) =>
    build<T | undefined>({ doc, default: undefined, expected, ...opts }, parse, false);
}

const parseInteger =
  (min: number, max: number): Parse<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  };

const parseNumber =
  (min: number, max: number): Parse<number> =>
  (raw) => {
    if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isFinite(n) && n >= min && n <= max ? n : undefined;
  };

const parseBool: Parse<boolean> = (raw) => {
  if (/^(true|1|yes|on)$/i.test(raw)) return true;
  if (/^(false|0|no|off)$/i.test(raw)) return false;
  return undefined;
};

const parseUrl = (raw: string): string | undefined => {
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return raw.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
};

const parseUrlList: Parse<string[]> = (raw) => {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const out: string[] = [];
  for (const item of items) {
    const u = parseUrl(item);
    if (u === undefined) return undefined;
    out.push(u);
  }
  return out;
};

/** BACKENDS: URLs, each optionally with `#service=…&host=…&path=…&strip=true`. */
const parseBackendList = (raw: string): StaticBackendEntry[] | Invalid => {
  const out: StaticBackendEntry[] = [];
  for (const item of raw.split(',').map((s) => s.trim())) {
    if (item.length === 0) continue;
    const entry = parseStaticBackend(item);
    if (typeof entry === 'string') return new Invalid(entry);
    out.push(entry);
  }
  return out;
};

export const env = {
  backendList: withDefault(
    'comma-separated http(s) URLs, each optionally with #service=<name>&host=<host>&path=</prefix>&strip=true',
    parseBackendList,
  ),
  port: withDefault('a TCP port (integer 1..65535)', parseInteger(1, 65535)),
  /** Like port but 0 (pick a free one) allowed: tests and benches bind to 0. */
  listenPort: withDefault('a TCP port (integer 0..65535)', parseInteger(0, 65535)),
  int: (min: number, max: number) => withDefault(`an integer in ${min}..${max}`, parseInteger(min, max)),
  optionalInt: (min: number, max: number) => optional(`an integer in ${min}..${max}`, parseInteger(min, max)),
  number: (min: number, max: number) => withDefault(`a number in ${min}..${max}`, parseNumber(min, max)),
  optionalNumber: (min: number, max: number) => optional(`a number in ${min}..${max}`, parseNumber(min, max)),
  bool: withDefault('true or false', parseBool),
  string: withDefault('a non-empty string', (raw: string) => raw),
  optionalString: optional('a non-empty string', (raw: string) => raw),
  url: withDefault('an http(s) URL', parseUrl),
  optionalUrl: optional('an http(s) URL', parseUrl),
  urlList: withDefault('comma-separated http(s) URLs', parseUrlList),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T) =>
    withDefault(`one of ${values.join(', ')}`, (raw: string) =>
      (values as readonly string[]).includes(raw) ? (raw as T[number]) : undefined,
    ),
  list: withDefault('a comma-separated list', (raw: string) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ),
};
