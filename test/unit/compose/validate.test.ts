// Semantic checks and the dependency graph against the corpus `invalid` files whose failure is
// semantic (canonical, normalize, validate or graph), through parse -> canonical -> normalize.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { parse } from 'yaml';

import { canonicalize } from '../../../compose/canonical';
import { buildGraph } from '../../../compose/graph';
import { normalizeProject } from '../../../compose/normalize';
import type { RawMap } from '../../../compose/raw';
import { validateProject } from '../../../compose/validate';

const CORPUS = join(__dirname, '../../../../shared/corpus');

const EXPECTED: Record<string, string> = {};
for (const line of readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1)) {
  const c = line.split('\t');
  if (c[4] === 'invalid' && c[0]) EXPECTED[c[0]] = c[5] ?? '';
}

/** Runs the typed phases and returns every message they produce. */
function messages(path: string, vars: Record<string, string> = {}): string {
  let text = readFileSync(join(CORPUS, path), 'utf8');
  for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`\${${k}}`, v);
  const dir = dirname(join(CORPUS, path));
  try {
    const project = normalizeProject(canonicalize(parse(text) as RawMap), {
      projectName: 'test',
      workingDir: dir,
      env: new Map(),
      readEnvFile: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined),
      homeDir: '/home/test',
    });
    const issues = validateProject(project).map((i) => i.detail);
    if (issues.length > 0) return issues.join('\n');
    buildGraph(project);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

const CASES: [string, Record<string, string>][] = [
  ['e2e/fixtures/build-test/platforms/compose-service-platform-not-in-build-platforms.yaml', {}],
  ['e2e/fixtures/env_file/compose.yaml', {}],
  ['e2e/testdata/TestLocalComposeConfigNoConsistency/compose.yaml', {}],
  ['e2e/testdata/TestUpContainerNameConflict/compose.yaml', { FIXED_NAME: 'fixed' }],
  ['loader/loader/inline.TestBadServiceConfig.yaml', {}],
  ['loader/loader/inline.TestInvalidExternalAndDirverOptsCombination.yaml', {}],
  ['loader/loader/inline.TestInvalidExternalAndDriverCombination.yaml', {}],
  ['loader/loader/inline.TestInvalidExternalAndLabelsCombination.yaml', {}],
  ['loader/loader/inline.TestLoadBindMountSourceMustNotBeEmpty.yaml', {}],
  ['loader/loader/inline.TestLoadNetworkInvalidExternalNameAndNameCombination.yaml', {}],
  ['loader/loader/inline.TestLoadSecretInvalidExternalNameAndNameCombination.yaml', {}],
  ['loader/loader/inline.TestLoadVolumeInvalidExternalNameAndNameCombination.yaml', {}],
  ['loader/loader/inline.TestServiceDeviceRequestCountAndDeviceIdsExclusive.yaml', {}],
  ['loader/loader/inline.TestServiceDeviceRequestCountInvalidStringType.yaml', {}],
  ['loader/loader/testdata/compose-depends-on-cycle.yaml', {}],
  ['loader/loader/testdata/compose-depends-on-self.yaml', {}],
  ['loader/loader/tests/inline.TestEnvironmentWhitespace.yaml', {}],
];

describe('corpus invalid files (semantic)', () => {
  test.each(CASES)('%s', (path, vars) => {
    const want = EXPECTED[path];
    expect(want).toBeTruthy();
    expect(messages(path, vars)).toContain(want);
  });
});

function project(yaml: string) {
  return normalizeProject(canonicalize(parse(yaml) as RawMap), {
    projectName: 'p',
    workingDir: '/w',
    env: new Map(),
    readEnvFile: () => undefined,
    homeDir: '/h',
  });
}

describe('validateProject', () => {
  test('references to undefined resources are all reported', () => {
    const p = project(`
services:
  web:
    image: x
    networks: [front]
    volumes: [data:/d]
    secrets: [s]
    depends_on: [db]
`);
    expect(validateProject(p).map((i) => i.detail)).toEqual([
      'service "web" depends on undefined service "db": invalid compose project',
      'service "web" refers to undefined network front: invalid compose project',
      'service "web" refers to undefined secret s: invalid compose project',
      'service "web" refers to undefined volume data: invalid compose project',
    ]);
  });
  test('container_name with replicas', () => {
    const p = project('services: {web: {image: x, container_name: c, deploy: {replicas: 2}}}');
    expect(validateProject(p)[0]?.detail).toContain("can't set container_name");
  });
  test('mem_limit vs deploy.resources.limits.memory', () => {
    const p = project(
      'services: {web: {image: x, mem_limit: 1g, deploy: {resources: {limits: {memory: 512m}}}}}',
    );
    expect(validateProject(p)[0]?.detail).toContain(
      "can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory'",
    );
    const same = project(
      'services: {web: {image: x, mem_limit: 1g, deploy: {resources: {limits: {memory: 1024m}}}}}',
    );
    expect(validateProject(same)).toEqual([]);
  });
  test('a consistent project has no issues', () => {
    expect(validateProject(project('services: {a: {image: x}}'))).toEqual([]);
  });
});

describe('validateProject, more compose-go consistency rules', () => {
  test('a limits block without memory conflicts with mem_limit (compose-go compares with 0)', () => {
    const p = project(
      'services: {web: {image: x, mem_limit: 1g, deploy: {resources: {limits: {cpus: 1}}}}}',
    );
    expect(validateProject(p).map((i) => i.detail)).toEqual([
      "services.web: can't set distinct values on 'mem_limit' and 'deploy.resources.limits.memory': invalid compose project",
    ]);
  });
  test('healthcheck test must start with CMD, CMD-SHELL or NONE', () => {
    const p = project('services: {web: {image: x, healthcheck: {test: [curl, x]}}}');
    expect(validateProject(p)[0]?.detail).toBe(
      'healthcheck.test must start either by "CMD", "CMD-SHELL" or "NONE"',
    );
  });
  test('container_name with scale', () => {
    const p = project('services: {web: {image: x, container_name: c, scale: 3}}');
    expect(validateProject(p)[0]?.detail).toBe(
      "services.scale: can't set container_name and web as container name must be unique: invalid compose project",
    );
  });
  test('network_mode service:x needs x', () => {
    const p = project('services: {web: {image: x, network_mode: "service:gone"}}');
    expect(validateProject(p).map((i) => i.detail)).toContain(
      'service "gone" not found for network_mode \'service:gone\'',
    );
  });
});
