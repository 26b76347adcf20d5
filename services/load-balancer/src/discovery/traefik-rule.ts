// Traefik import, pure: a container written for Traefik (`traefik.enable=true`, no lb.*
// label) becomes a service with routes. The rule grammar is Traefik's (values in backticks
// or double quotes, `&&`, `||`, parentheses), and the subset imported is the one small-host
// compose files use: `Host(…)` with one or more names, `Host(…) || Host(…)`, `PathPrefix(…)`,
// and the `&&` of a host group and one PathPrefix. Anything else is refused with the rule
// quoted, so the container is skipped with one warning instead of being routed wrongly.
// Traefik's PathPrefix is a raw string prefix; here it is segment-aware like lb.path (the
// difference only shows for `/api` against `/apix`).
import { hostRuleError, parsePathPrefix, type RouteLabels, TRAEFIK_LABELS } from '@headroom/shared';

type Node =
  | { kind: 'matcher'; name: string; args: string[] }
  | { kind: 'and' | 'or'; left: Node; right: Node };

class RuleSyntaxError extends Error {}

function tokenize(rule: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < rule.length) {
    const c = rule[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push(c);
      i++;
    } else if ((c === '&' || c === '|') && rule[i + 1] === c) {
      out.push(c + c);
      i += 2;
    } else if (c === '`' || c === '"') {
      const end = rule.indexOf(c, i + 1);
      if (end < 0) throw new RuleSyntaxError('an unterminated value');
      out.push(rule.slice(i, end + 1));
      i = end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (j < rule.length && /[A-Za-z0-9]/.test(rule[j]!)) j++;
      out.push(rule.slice(i, j));
      i = j;
    } else {
      throw new RuleSyntaxError(`"${c}"`);
    }
  }
  return out;
}

function parse(tokens: string[]): Node {
  let pos = 0;
  const peek = () => tokens[pos];
  const take = (want?: string) => {
    const t = tokens[pos++];
    if (t === undefined || (want !== undefined && t !== want))
      throw new RuleSyntaxError(want ? `expected ${want}` : 'an incomplete rule');
    return t;
  };
  const or = (): Node => {
    let left = and();
    while (peek() === '||') {
      take();
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): Node => {
    let left = unary();
    while (peek() === '&&') {
      take();
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === '(') {
      take();
      const inner = or();
      take(')');
      return inner;
    }
    const name = take();
    if (!/^[A-Za-z]+$/.test(name)) throw new RuleSyntaxError(`unexpected ${name}`);
    take('(');
    const args: string[] = [];
    for (;;) {
      const v = take();
      if (!/^[`"]/.test(v)) throw new RuleSyntaxError(`unexpected ${v}`);
      args.push(v.slice(1, -1));
      if (peek() === ',') {
        take();
        continue;
      }
      take(')');
      return { kind: 'matcher', name, args };
    }
  };
  const tree = or();
  if (pos !== tokens.length) throw new RuleSyntaxError(`unexpected ${tokens[pos]}`);
  return tree;
}

/** Host names of a tree of Host matchers joined by ||; undefined when it is anything else. */
function hostGroup(n: Node): string[] | undefined {
  if (n.kind === 'matcher') return n.name === 'Host' ? n.args : undefined;
  if (n.kind !== 'or') return undefined;
  const l = hostGroup(n.left);
  const r = hostGroup(n.right);
  return l && r ? [...l, ...r] : undefined;
}

function pathPrefix(n: Node): string | undefined {
  return n.kind === 'matcher' && n.name === 'PathPrefix' && n.args.length === 1 ? n.args[0] : undefined;
}

/** A router rule → the routes it means; a string says why it is outside the subset (rule quoted). */
export function parseTraefikRule(rule: string): RouteLabels | string {
  const outside = (why: string) =>
    `rule "${rule}" is outside the imported subset (Host, Host || Host, PathPrefix, and Host && PathPrefix): ${why}`;
  let tree: Node;
  try {
    tree = parse(tokenize(rule));
  } catch (err) {
    return outside(err instanceof RuleSyntaxError ? `cannot read ${err.message}` : String(err));
  }
  let hosts: string[] = [];
  let path: string | undefined;
  const group = hostGroup(tree);
  if (group) hosts = group;
  else if (pathPrefix(tree) !== undefined) path = pathPrefix(tree);
  else if (tree.kind === 'and') {
    const lh = hostGroup(tree.left);
    const rh = hostGroup(tree.right);
    const lp = pathPrefix(tree.left);
    const rp = pathPrefix(tree.right);
    if (lh && rp !== undefined) [hosts, path] = [lh, rp];
    else if (rh && lp !== undefined) [hosts, path] = [rh, lp];
    else return outside('only one host group and one PathPrefix may be joined by &&');
  } else {
    const name = tree.kind === 'matcher' ? tree.name : '||';
    return outside(`${name} is not imported`);
  }
  for (const h of hosts) {
    const err = hostRuleError(h);
    if (err !== undefined) return outside(err);
  }
  if (path !== undefined) {
    const p = parsePathPrefix(path);
    if (typeof p === 'object') return outside(p.error);
  }
  return { hosts: hosts.map((h) => h.toLowerCase()), path, strip: false };
}

/** What a Traefik-labelled container means: its service, port and routes. */
export interface TraefikImport {
  service: string;
  /** `loadbalancer.server.port`; undefined: the container's single exposed port. */
  port: number | undefined;
  routes: RouteLabels[];
}

/**
 * Reads `traefik.http.routers.<r>.rule` (and `.service`) and
 * `traefik.http.services.<s>.loadbalancer.server.port`. The service is the Traefik service
 * (the routers' `.service`, else the only one defined), else the router's name; routers
 * linked to another service are left out. A string: why the container is skipped.
 */
export function traefikImport(labels: Record<string, string>): TraefikImport | string {
  const routers = new Map<string, { rule?: string; service?: string }>();
  const ports = new Map<string, string>();
  for (const [key, value] of Object.entries(labels)) {
    if (key.startsWith(TRAEFIK_LABELS.routerPrefix)) {
      const rest = key.slice(TRAEFIK_LABELS.routerPrefix.length);
      const dot = rest.indexOf('.');
      if (dot <= 0) continue;
      const name = rest.slice(0, dot);
      const field = rest.slice(dot + 1);
      const r = routers.get(name) ?? {};
      if (field === TRAEFIK_LABELS.routerRule) r.rule = value;
      else if (field === TRAEFIK_LABELS.routerService) r.service = value;
      routers.set(name, r);
    } else if (key.startsWith(TRAEFIK_LABELS.servicePrefix)) {
      const rest = key.slice(TRAEFIK_LABELS.servicePrefix.length);
      const dot = rest.indexOf('.');
      if (dot > 0 && rest.slice(dot + 1) === TRAEFIK_LABELS.servicePort) ports.set(rest.slice(0, dot), value);
    }
  }
  const withRule = [...routers].filter(([, r]) => r.rule !== undefined);
  if (withRule.length === 0) return 'traefik.enable=true but no traefik.http.routers.<name>.rule label';
  const linked = new Set(withRule.map(([, r]) => r.service).filter((s) => s !== undefined));
  const defined = [...ports.keys()];
  let service: string;
  if (linked.size === 1) service = [...linked][0]!;
  else if (linked.size > 1)
    return `routers name several Traefik services (${[...linked].join(', ')}); one container is one backend`;
  else if (defined.length === 1) service = defined[0]!;
  else if (defined.length > 1)
    return `several Traefik services (${defined.join(', ')}) and no router names one`;
  else service = withRule[0]![0];
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service))
    return `Traefik service name "${service}" is not a service name`;
  const rawPort = ports.get(service);
  let port: number | undefined;
  if (rawPort !== undefined) {
    port = Number(rawPort);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      return `${TRAEFIK_LABELS.servicePrefix}${service}.${TRAEFIK_LABELS.servicePort}: expected a port 1..65535, got "${rawPort}"`;
  }
  const routes: RouteLabels[] = [];
  for (const [, r] of withRule) {
    if (r.service !== undefined && r.service !== service) continue;
    const parsed = parseTraefikRule(r.rule!);
    if (typeof parsed === 'string') return parsed;
    routes.push(parsed);
  }
  return { service, port, routes };
}
