// compose-go Normalize() facts (expected/normalize/*.json): the expected output, canonicalised and
// normalised again, must equal what we build from the input (normalisation is idempotent, so
// this compares the two fully, including defaults that compose-go adds later in its pipeline).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import { canonicalize } from '../../../compose/canonical';
import { normalizeProject, type NormalizeOptions } from '../../../compose/normalize';
import type { RawMap } from '../../../compose/raw';

const CORPUS = join(__dirname, '../../../../shared/corpus');
const DIR = join(CORPUS, 'expected/normalize');

interface Fact {
  file: string;
  env: Record<string, string>;
  expect_normalized: RawMap;
}

function options(fact: Fact): NormalizeOptions {
  return {
    projectName: fact.expect_normalized.name as string,
    workingDir: join(CORPUS, fact.file, '..'),
    env: new Map(Object.entries(fact.env)),
    readEnvFile: () => undefined,
    homeDir: '/home/test',
  };
}

describe('expected/normalize', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  test('all 9 facts are present', () => {
    expect(files).toHaveLength(9);
  });
  test.each(files)('%s', (f) => {
    const fact = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Fact;
    const input = parse(readFileSync(join(CORPUS, fact.file), 'utf8')) as RawMap;
    const got = normalizeProject(canonicalize(input), options(fact));
    const want = normalizeProject(canonicalize(fact.expect_normalized), options(fact));
    expect(JSON.parse(JSON.stringify(got))).toEqual(JSON.parse(JSON.stringify(want)));
    expect(Object.isFrozen(got.services)).toBe(true);
  });
});

describe('normalizeProject', () => {
  const base: NormalizeOptions = {
    projectName: 'demo',
    workingDir: '/srv/app',
    env: new Map([['FROM_ENV', 'yes']]),
    readEnvFile: (p) => (p === '/srv/app/a.env' ? 'A=1\nB=from_file\nC=${FROM_ENV}\n' : undefined),
    homeDir: '/home/u',
  };
  test('env_file under environment; bare keys from the project env', () => {
    const p = normalizeProject(
      canonicalize(
        parse(`
services:
  web:
    image: x
    env_file: a.env
    environment: [B=explicit, FROM_ENV, UNSET]
`) as RawMap,
      ),
      base,
    );
    expect(p.services.web?.environment).toEqual({
      A: '1',
      B: 'explicit',
      C: 'yes',
      FROM_ENV: 'yes',
      UNSET: null,
    });
    expect(p.services.web?.env_file).toEqual([{ path: '/srv/app/a.env', required: true }]);
  });
  test('missing required env_file', () => {
    expect(() =>
      normalizeProject(
        canonicalize({ services: { w: { image: 'x', env_file: '/nope/.env' } } }),
        base,
      ),
    ).toThrow('env file /nope/.env not found');
  });
  test('profiles', () => {
    const tree = canonicalize({
      services: { a: { image: 'x' }, b: { image: 'x', profiles: ['dev'] } },
    });
    expect(Object.keys(normalizeProject(tree, base).services)).toEqual(['a']);
    expect(
      Object.keys(normalizeProject(tree, { ...base, activeProfiles: ['dev'] }).services),
    ).toEqual(['a', 'b']);
    expect(
      Object.keys(normalizeProject(tree, { ...base, activeProfiles: ['*'] }).services),
    ).toEqual(['a', 'b']);
  });
  test('names, default network, external', () => {
    const p = normalizeProject(
      canonicalize({
        services: { a: { image: 'x' } },
        volumes: { data: null, ext: { external: true }, named: { name: 'n' } },
      }),
      base,
    );
    expect(p.networks).toEqual({ default: { name: 'demo_default' } });
    expect(p.volumes).toEqual({
      data: { name: 'demo_data' },
      ext: { external: true, name: 'ext' },
      named: { name: 'n' },
    });
    expect(p.services.a?.networks).toEqual({ default: null });
  });
});
