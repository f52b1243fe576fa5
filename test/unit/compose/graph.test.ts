import { parse } from 'yaml';

import { canonicalize } from '../../../compose/canonical';
import { buildGraph } from '../../../compose/graph';
import { normalizeProject } from '../../../compose/normalize';
import type { RawMap } from '../../../compose/raw';

function graphOf(yaml: string) {
  return buildGraph(
    normalizeProject(canonicalize(parse(yaml) as RawMap), {
      projectName: 'p',
      workingDir: '/w',
      env: new Map(),
      readEnvFile: () => undefined,
      homeDir: '/h',
    }),
  );
}

describe('buildGraph', () => {
  test('start and stop order with implicit edges', () => {
    const g = graphOf(`
services:
  web: {image: x, depends_on: [api], links: ["cache:c"]}
  api: {image: x, network_mode: "service:net", volumes_from: [data]}
  net: {image: x}
  data: {image: x}
  cache: {image: x}
`);
    expect(g.startOrder).toEqual(['cache', 'data', 'net', 'api', 'web']);
    expect(g.stopOrder).toEqual(['web', 'api', 'net', 'data', 'cache']);
    expect(g.dependencies('api')).toEqual(['data', 'net']);
    expect(g.dependents('api')).toEqual(['web']);
    expect(g.withDependencies(['api'])).toEqual(['api', 'data', 'net']);
    expect(g.edges.find((e) => e.from === 'api' && e.to === 'data')?.restart).toBe(false);
  });
  test('cycle message lists the cycle in sorted walk order', () => {
    expect(() =>
      graphOf(
        'services: {c: {image: x, depends_on: [a]}, b: {image: x, depends_on: [c]}, a: {image: x, depends_on: [b]}}',
      ),
    ).toThrow('dependency cycle detected: a -> b -> c -> a');
  });
  test('unknown required dependency', () => {
    expect(() => graphOf('services: {a: {image: x, depends_on: [zot]}}')).toThrow(
      'service "a" depends on undefined service "zot"',
    );
  });
  test('optional dependency on a missing service is ignored', () => {
    const g = graphOf(
      'services: {a: {image: x, depends_on: {zot: {condition: service_started, required: false}}}}',
    );
    expect(g.edges).toEqual([]);
  });
});

describe('compose/graph: large projects', () => {
  it('orders a 10,000-service depends_on chain without exhausting the stack', () => {
    const services: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) {
      services[`s${String(i).padStart(5, '0')}`] =
        i < 9_999
          ? {
              depends_on: {
                [`s${String(i + 1).padStart(5, '0')}`]: {
                  condition: 'service_started',
                  required: true,
                },
              },
            }
          : {};
    }
    const graph = buildGraph({ name: 'chain', services } as unknown as Parameters<
      typeof buildGraph
    >[0]);
    expect(graph.startOrder[0]).toBe('s09999');
    expect(graph.startOrder[9_999]).toBe('s00000');
  });
});
