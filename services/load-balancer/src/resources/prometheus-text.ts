// Pure: reads the few samples the balancer needs from a Prometheus text exposition.
/** First sample of `name` (any labels), or undefined. */
export function sampleValue(text: string, name: string): number | undefined {
  let from = 0;
  for (;;) {
    const at = text.indexOf(name, from);
    if (at < 0) return undefined;
    from = at + name.length;
    const lineStart = at === 0 || text[at - 1] === '\n';
    const next = text[at + name.length];
    if (!lineStart || (next !== ' ' && next !== '{')) continue;
    const eol = text.indexOf('\n', at);
    const line = text.slice(at, eol < 0 ? text.length : eol);
    const afterLabels = next === '{' ? line.slice(line.indexOf('}') + 1) : line.slice(name.length);
    const value = Number(afterLabels.trim().split(/\s+/)[0]);
    return Number.isFinite(value) ? value : undefined;
  }
}
