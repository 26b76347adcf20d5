// Pure: the metric names a PromQL expression reads, so tests can check that dashboards and
// rules query only names the project defines (shared metric-names.ts) or well-known exporters.

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/** Names of the series selected in `expr` (functions, keywords and label names excluded). */
export function promqlMetricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#[^\n]*/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    const name = m[1] as string;
    if (m[2] !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** A histogram's or summary's series names for each base name. */
export function withHistogramSeries(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const n of names) for (const suffix of ['', '_bucket', '_sum', '_count']) out.add(`${n}${suffix}`);
  return out;
}
