// lb.maxconn's value, pure: here in model/ so discovery's label decoder reads it without
// importing the balancing core (test/boundaries.test.ts).
/**
 * `lb.maxconn` as written on a container: a whole number ≥ 1, or why it is not (the caller
 * logs it once, naming the container, and the adaptive limit applies). undefined: not set.
 */
export function parseMaxConn(value: string | undefined): number | undefined | { invalid: string } {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (!/^\d+$/.test(v)) return { invalid: `"${value}" is not a whole number` };
  const n = Number(v);
  if (n < 1) return { invalid: `"${value}" must be at least 1` };
  if (!Number.isSafeInteger(n)) return { invalid: `"${value}" is too large` };
  return n;
}
