/**
 * The service dependency graph of a normalised Project (depends_on, which already holds the
 * implicit edges from links, volumes_from and `service:x` namespaces): unknown references, cycles
 * in compose-go's wording, start order for `up` and stop order for `down`. Pure.
 */
import { ComposeError } from '../base/errors.js';
import type { Project } from './model.js';

/** A dependency edge: `from` needs `to` first. */
export interface DependencyEdge {
  readonly from: string;
  readonly to: string;
  readonly condition: string;
  readonly required: boolean;
  readonly restart: boolean;
}

/** The graph of a project's services. */
export interface ServiceGraph {
  /** Service names, sorted. */
  readonly services: readonly string[];
  /** Edges, sorted by `from` then `to`. */
  readonly edges: readonly DependencyEdge[];
  /** What `service` depends on (sorted). */
  dependencies(service: string): readonly string[];
  /** Who depends on `service` (sorted). */
  dependents(service: string): readonly string[];
  /** Start order for `up`: every service after its dependencies; ties alphabetical. */
  readonly startOrder: readonly string[];
  /** Stop order for `down`: the reverse of startOrder. */
  readonly stopOrder: readonly string[];
  /** The services in `names` plus everything they depend on, transitively (sorted). */
  withDependencies(names: readonly string[]): readonly string[];
}

function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort();
}

/**
 * Finds a dependency cycle: depth-first from each service in sorted order, following
 * dependencies in sorted order (compose-go's graph walk). Returns the cycle closed on its first
 * service (`['a', 'b', 'a']`), or undefined.
 */
function findCycle(deps: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  // Iterative depth-first search (a chain of thousands of services must not exhaust the stack);
  // visits roots and dependencies in the same order as a recursive walk would.
  const state = new Map<string, 'visiting' | 'done'>();
  for (const root of sorted(deps.keys())) {
    if (state.has(root)) continue;
    const path: string[] = [root];
    const next: number[] = [0];
    state.set(root, 'visiting');
    while (path.length > 0) {
      const top = path.length - 1;
      const node = path[top] ?? '';
      const children = deps.get(node) ?? [];
      const i = next[top] ?? 0;
      if (i >= children.length) {
        state.set(node, 'done');
        path.pop();
        next.pop();
        continue;
      }
      next[top] = i + 1;
      const child = children[i] ?? '';
      const st = state.get(child);
      if (st === 'visiting') return [...path.slice(path.indexOf(child)), child];
      if (st === 'done') continue;
      state.set(child, 'visiting');
      path.push(child);
      next.push(0);
    }
  }
  return undefined;
}

/** A binary min-heap of names (Kahn's algorithm takes the smallest ready name first). */
class NameHeap {
  private readonly items: string[] = [];
  get size(): number {
    return this.items.length;
  }
  push(x: string): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if ((a[parent] ?? '') <= x) break;
      a[i] = a[parent] ?? '';
      a[parent] = x;
      i = parent;
    }
  }
  pop(): string | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && (a[l] ?? '') < (a[m] ?? '')) m = l;
        if (r < a.length && (a[r] ?? '') < (a[m] ?? '')) m = r;
        if (m === i) break;
        const t = a[i] ?? '';
        a[i] = a[m] ?? '';
        a[m] = t;
        i = m;
      }
    }
    return top;
  }
}

/**
 * Builds the dependency graph of a normalised project.
 * @throws ComposeError TSC_COMPOSE_REFERENCE `service "a" depends on undefined service "b"` for a
 *   required dependency on a missing service; TSC_COMPOSE_CYCLE `dependency cycle detected:
 *   a -> b -> a` (the cycle found first walking services and their dependencies in sorted order)
 */
export function buildGraph(
  p: Project,
  opts: { readonly skipUnknown?: boolean } = {},
): ServiceGraph {
  const names = sorted(Object.keys(p.services));
  const edges: DependencyEdge[] = [];
  const deps = new Map<string, string[]>();
  const rdeps = new Map<string, string[]>();
  for (const n of names) {
    deps.set(n, []);
    rdeps.set(n, []);
  }
  for (const from of names) {
    const svc = p.services[from];
    for (const to of sorted(Object.keys(svc?.depends_on ?? {}))) {
      const d = svc?.depends_on?.[to];
      if (!d) continue;
      if (!Object.hasOwn(p.services, to)) {
        if (d.required === false || opts.skipUnknown) continue;
        throw ComposeError.at(
          'TSC_COMPOSE_REFERENCE',
          { file: '', path: `services.${from}.depends_on.${to}` },
          `service "${from}" depends on undefined service "${to}": invalid compose project`,
        );
      }
      edges.push({
        from,
        to,
        condition: d.condition,
        required: d.required,
        restart: d.restart === true,
      });
      deps.get(from)?.push(to);
      rdeps.get(to)?.push(from);
    }
  }
  const cycle = findCycle(deps);
  if (cycle) {
    throw ComposeError.at(
      'TSC_COMPOSE_CYCLE',
      { file: '', path: `services.${cycle[0] ?? ''}.depends_on` },
      `dependency cycle detected: ${cycle.join(' -> ')}`,
    );
  }
  // Kahn's algorithm, smallest ready name first
  const indegree = new Map(names.map((n) => [n, deps.get(n)?.length ?? 0]));
  const ready = new NameHeap();
  for (const n of names) if (indegree.get(n) === 0) ready.push(n);
  const order: string[] = [];
  for (let n = ready.pop(); n !== undefined; n = ready.pop()) {
    order.push(n);
    for (const m of rdeps.get(n) ?? []) {
      const left = (indegree.get(m) ?? 0) - 1;
      indegree.set(m, left);
      if (left === 0) ready.push(m);
    }
  }
  for (const list of [...deps.values(), ...rdeps.values()]) list.sort();
  return {
    services: names,
    edges,
    dependencies: (s) => deps.get(s) ?? [],
    dependents: (s) => rdeps.get(s) ?? [],
    startOrder: order,
    stopOrder: [...order].reverse(),
    withDependencies: (wanted) => {
      const seen = new Set<string>();
      const walk = (s: string): void => {
        if (seen.has(s)) return;
        seen.add(s);
        for (const d of deps.get(s) ?? []) walk(d);
      };
      wanted.forEach(walk);
      return sorted(seen);
    },
  };
}
