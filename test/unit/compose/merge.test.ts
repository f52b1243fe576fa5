import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { enforceUnicity, mergeTrees } from '../../../compose/merge';
import { parseComposeYaml } from '../../../compose/parse';
import type { RawMap } from '../../../compose/raw';

const CORPUS = process.env['TSC_CORPUS'] ?? join(__dirname, '../../../../shared/corpus');
const EXPECTED = join(CORPUS, 'expected/merge');

interface MergeFact {
  files: string[];
  kind: 'raw-merge' | 'raw-unicity';
  source: string;
  expect_merged_raw: RawMap;
}

const parse = (rel: string) => parseComposeYaml(readFileSync(join(CORPUS, rel), 'utf8'), rel);

const facts = readdirSync(EXPECTED)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map(
    (f) =>
      [
        f.replace(/\.json$/, ''),
        JSON.parse(readFileSync(join(EXPECTED, f), 'utf8')) as MergeFact,
      ] as const,
  );

describe('compose/merge: corpus expected/merge', () => {
  it.each(facts)('%s', (_name, fact) => {
    // Map key order is not significant (compose-go compares Go maps with DeepEqual).
    if (fact.kind === 'raw-unicity') {
      const only = parse(fact.files[0]!);
      expect(enforceUnicity(only.tree, [])).toEqual(fact.expect_merged_raw);
      return;
    }
    const [baseFile, overrideFile] = fact.files;
    const base = parse(baseFile!);
    const override = parse(overrideFile!);
    expect(mergeTrees(base.tree, override.tree, override)).toEqual(fact.expect_merged_raw);
  });
});

describe('compose/merge: rules', () => {
  const merge = (a: string, b: string): RawMap => {
    const o = parseComposeYaml(b, 'override.yaml');
    return mergeTrees(parseComposeYaml(a, 'base.yaml').tree, o.tree, o);
  };

  it('replaces command and entrypoint', () => {
    expect(
      merge(
        'services:\n  a:\n    command: [a, b]\n    entrypoint: x\n',
        'services:\n  a:\n    command: [c]\n    entrypoint: [y, z]\n',
      ),
    ).toEqual({ services: { a: { command: ['c'], entrypoint: ['y', 'z'] } } });
  });

  it('!reset removes the base value, !override replaces it', () => {
    expect(
      merge(
        'services:\n  a:\n    image: x\n    ports: ["80:80"]\n    environment: {A: "1"}\n',
        'services:\n  a:\n    ports: !reset []\n    environment: !override {B: "2"}\n',
      ),
    ).toEqual({ services: { a: { image: 'x', environment: { B: '2' } } } });
  });

  it('merges depends_on lists into maps with defaults', () => {
    expect(
      merge(
        'services:\n  a:\n    depends_on: [b]\n',
        'services:\n  a:\n    depends_on:\n      c:\n        condition: service_healthy\n',
      ),
    ).toEqual({
      services: {
        a: {
          depends_on: {
            b: { condition: 'service_started', required: true },
            c: { condition: 'service_healthy' },
          },
        },
      },
    });
  });

  it('merges networks given as list and map; build string and map', () => {
    expect(
      merge(
        'services:\n  a:\n    build: ./dir\n    networks: [front]\n',
        'services:\n  a:\n    build:\n      target: prod\n    networks:\n      back:\n        aliases: [x]\n',
      ),
    ).toEqual({
      services: {
        a: {
          build: { context: './dir', target: 'prod' },
          networks: { front: null, back: { aliases: ['x'] } },
        },
      },
    });
  });

  it('keeps the base when the override is null, replaces x- keys whole', () => {
    expect(
      merge(
        'x-a: {k: 1, j: 2}\nservices:\n  a:\n    image: x\n',
        'x-a: {k: 3}\nservices:\n  a:\n    image:\n',
      ),
    ).toEqual({ 'x-a': { k: 3 }, services: { a: { image: 'x' } } });
  });

  it('does not modify its inputs', () => {
    const base = parseComposeYaml('services:\n  a:\n    ports: ["1:1"]\n', 'b.yaml').tree;
    const before = JSON.stringify(base);
    mergeTrees(base, parseComposeYaml('services:\n  a:\n    ports: ["2:2"]\n', 'o.yaml').tree);
    expect(JSON.stringify(base)).toBe(before);
  });
});

describe('compose/merge: corpus multi-file resets', () => {
  const parseFile = (rel: string, text?: string) =>
    parseComposeYaml(text ?? readFileSync(join(CORPUS, 'loader/loader', rel), 'utf8'), rel);

  it('Test_LoadWithReset: !reset on build and on one environment key', () => {
    const base = parseFile('inline.Test_LoadWithReset.base.yaml');
    const override = parseFile('inline.Test_LoadWithReset.override.yaml');
    expect(mergeTrees(base.tree, override.tree, override)).toEqual({
      name: 'test',
      services: { foo: { image: 'foo', environment: [] } },
    });
  });

  it('TestResetRemove: !reset removes a whole network', () => {
    const base = parseFile('inline.TestResetRemove.base.yaml');
    const override = parseFile('inline.TestResetRemove.override.yaml');
    expect(mergeTrees(base.tree, override.tree, override)).toEqual({
      name: 'test-reset',
      networks: {},
    });
  });
});
