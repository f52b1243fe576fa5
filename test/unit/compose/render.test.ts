import { parse } from 'yaml';

import { canonicalize } from '../../../compose/canonical';
import { normalizeProject } from '../../../compose/normalize';
import type { RawMap } from '../../../compose/raw';
import { renderConfig } from '../../../compose/render';

function project(yaml: string) {
  return normalizeProject(canonicalize(parse(yaml) as RawMap), {
    projectName: 'demo',
    workingDir: '/srv',
    env: new Map(),
    readEnvFile: () => undefined,
    homeDir: '/h',
  });
}

const SRC = `
x-top: 1
services:
  web:
    x-svc: 2
    image: "nginx:\${TAG}"
    ports: ["8080:80"]
    volumes: ["./data:/data:ro"]
    healthcheck: {test: "true", interval: 90s}
    mem_limit: 512m
  db: {image: postgres}
`;

describe('renderConfig yaml', () => {
  const text = renderConfig(project(SRC), { format: 'yaml' });
  test('whole document in docker compose order', () => {
    expect(text).toBe(`name: demo
services:
  db:
    image: postgres
    networks:
      default: null
  web:
    healthcheck:
      test:
        - CMD-SHELL
        - "true"
      interval: 1m30s
    image: nginx:$\${TAG}
    mem_limit: "536870912"
    networks:
      default: null
    ports:
      - mode: ingress
        target: 80
        published: "8080"
        protocol: tcp
    volumes:
      - type: bind
        source: /srv/data
        target: /data
        read_only: true
        bind: {}
    x-svc: 2
networks:
  default:
    name: demo_default
x-top: 1
`);
  });
  test('round trip: the output loads back to the same project', () => {
    const again = parse(text.replaceAll('$$', '$')) as RawMap;
    expect(
      JSON.parse(
        JSON.stringify(
          project(renderConfig(project(SRC), { format: 'yaml', escapeDollar: false })),
        ),
      ),
    ).toEqual(JSON.parse(JSON.stringify(project(SRC))));
    expect(again.name).toBe('demo');
  });
});

describe('renderConfig json', () => {
  const json = JSON.parse(renderConfig(project(SRC), { format: 'json' })) as Record<
    string,
    unknown
  >;
  test('top-level keys sorted like a Go map, extensions kept there', () => {
    expect(Object.keys(json)).toEqual(['name', 'networks', 'services', 'x-top']);
  });
  test('nested extensions are left out, opt-out defaults kept', () => {
    const web = (json.services as Record<string, Record<string, unknown>>).web;
    expect(web?.['x-svc']).toBeUndefined();
    expect(web?.volumes).toEqual([
      {
        type: 'bind',
        source: '/srv/data',
        target: '/data',
        read_only: true,
        bind: { create_host_path: true },
      },
    ]);
  });
});

describe('renderConfig scalars like go-yaml v3', () => {
  test('YAML 1.1 booleans and base-60 floats are double-quoted; multi-line strings are literal', () => {
    const p = project(
      'services: {web: {image: x, environment: {A: "yes", B: "12:30", C: "8080:80", D: "a\\nb"}}}',
    );
    const text = renderConfig(p, { format: 'yaml' });
    expect(text).toContain('A: "yes"\n');
    expect(text).toContain('B: "12:30"\n');
    expect(text).toContain('C: 8080:80\n');
    expect(text).toContain('D: |-\n        a\n        b\n');
  });
  test('zero struct fields are left out, kept ones stay', () => {
    const p = project('services: {web: {image: x, privileged: false, init: false, tty: true}}');
    const text = renderConfig(p, { format: 'yaml' });
    expect(text).not.toContain('privileged');
    expect(text).toContain('init: false');
    expect(text).toContain('tty: true');
  });
});

describe('renderConfig units', () => {
  test('bytes as decimal strings, modes as octal strings', () => {
    const p = project(`
services:
  web:
    image: x
    mem_limit: 512m
    shm_size: 64m
    secrets: [{source: s, mode: 0o440}]
    volumes: [{type: tmpfs, target: /t, tmpfs: {size: 1k}}]
    deploy: {resources: {limits: {memory: 1g}}}
secrets: {s: {file: ./s}}
`);
    const web = (
      JSON.parse(renderConfig(p, { format: 'json' })) as {
        services: Record<string, Record<string, unknown>>;
      }
    ).services.web;
    expect(web?.mem_limit).toBe('536870912');
    expect(web?.shm_size).toBe('67108864');
    expect(web?.secrets).toEqual([{ source: 's', target: '/run/secrets/s', mode: '0440' }]);
    expect(web?.volumes).toEqual([{ type: 'tmpfs', target: '/t', tmpfs: { size: '1024' } }]);
    expect(web?.deploy).toEqual({ resources: { limits: { memory: '1073741824' } } });
  });
});
