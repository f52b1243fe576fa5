import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ComposeError } from '../../../base/errors';
import { parseComposeYaml, resolvePlain } from '../../../compose/parse';
import type { RawMap } from '../../../compose/raw';

const CORPUS = process.env['TSC_CORPUS'] ?? join(__dirname, '../../../../shared/corpus');
const LOADER = join(CORPUS, 'loader/loader');

function thrown(f: () => unknown): ComposeError {
  try {
    f();
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error('expected a ComposeError');
}

const parseCorpus = (name: string) =>
  parseComposeYaml(readFileSync(join(LOADER, name), 'utf8'), name);

describe('compose/parse: corpus files rejected at the YAML level', () => {
  // [file, expected error substance from MANIFEST.tsv]
  const invalid: [string, string][] = [
    ['inline.TestAliasBombPrevented.B9_N9_original_poc.yaml', 'excessive aliasing'],
    // MANIFEST: "excessive aliasing" permitted but not required; go-yaml's ratio rule rejects it.
    ['inline.TestAliasBombPrevented.B3_N10_small_branching.yaml', 'excessive aliasing'],
    ['inline.TestAliasNodePreservation.yaml', 'excessive aliasing'],
    ['inline.TestMergeKeyAliasToScalarRejected.yaml', 'map merge requires map'],
    ['inline.TestNonStringKeys.1.yaml', 'non-string key at top level: 123'],
    ['inline.TestNonStringKeys.2.yaml', 'non-string key in services: 123'],
    ['inline.TestNonStringKeys.3.yaml', 'non-string key in networks.default.ipam.config[0]: 123'],
    ['inline.TestNonStringKeys.4.yaml', 'non-string key in services.dict-env.environment: 1'],
    [
      'inline.TestResetCycle.direct_self_reference_cycle.yaml',
      'cycle detected: node at path x-healthcheck.egress-service.egress-service references node at path x-healthcheck.egress-service',
    ],
  ];
  it.each(invalid)('%s', (file, substance) => {
    const e = thrown(() => parseCorpus(file));
    expect(e.code).toBe('TSC_COMPOSE_PARSE');
    expect(e.message).toContain(substance);
    expect(e.message.startsWith(`${file}:`)).toBe(true);
  });
});

describe('compose/parse: corpus Test_DuplicateReset', () => {
  it('reports the duplicate key with go-yaml line numbers', () => {
    // The upstream Go literal starts with a newline that the extracted corpus file lacks, so the
    // upstream text "line 6 ... line 5" is reproduced by restoring that first line.
    const text = readFileSync(join(LOADER, 'inline.Test_DuplicateReset.yaml'), 'utf8');
    expect(() => parseComposeYaml(`\n${text}`, 'duplicate.yml')).toThrow(
      'line 6: mapping key "command" already defined at line 5',
    );
    expect(() => parseComposeYaml(text, 'duplicate.yml')).toThrow(
      'duplicate.yml:5:6 services.foo: yaml: line 5: mapping key "command" already defined at line 4',
    );
  });
});

describe('compose/parse: corpus files accepted at the YAML level', () => {
  const valid = [
    'inline.TestResetCycle.dotted_service_names_prefix_no_cycle.yaml',
    'inline.TestResetCycle.multiple_services_common_config.yaml',
    'inline.TestResetCycle.nested_merge_no_cycle.yaml',
    'inline.TestResetCycle.simple_alias_no_cycle.yaml',
    'inline.TestResetCycle.simple_alias_reversed_no_cycle.yaml',
    'inline.TestMergeKeyAliasTargets.alias_to_mapping.yaml',
    'inline.TestMergeKeyAliasTargets.alias_to_sequence_of_mappings.yaml',
    'inline.TestMergeKeyAliasTargets.alias_to_sequence_shared_across_services.yaml',
    'inline.TestMergeKeyAliasTargets.inline_sequence_of_mappings.yaml',
  ];
  it.each(valid)('%s', (file) => {
    const tree = parseCorpus(file).tree;
    expect(tree['services'] ?? tree['x-templates']).toBeDefined();
  });

  it('TestResetCycle.nested_merge_no_cycle expands nested merges', () => {
    const tree = parseCorpus('inline.TestResetCycle.nested_merge_no_cycle.yaml').tree;
    expect((tree['x-templates'] as RawMap)['vp0']).toEqual({ environment: { a: 'b' } });
  });
});

describe('compose/parse: scalars (YAML 1.2 with go-yaml v3 rules)', () => {
  it.each([
    ['2122:22', '2122:22'],
    ['yes', 'yes'],
    ['on', 'on'],
    ['No', 'No'],
    ['true', true],
    ['False', false],
    ['~', null],
    ['null', null],
    ['0o17', 15],
    ['017', 15],
    ['0440', 288],
    ['0x1F', 31],
    ['1_000', 1000],
    ['-12', -12],
    ['1.5', 1.5],
    ['1e3', 1000],
    ['.inf', Number.POSITIVE_INFINITY],
    ['2001-12-14', '2001-12-14'],
    ['1.2.3', '1.2.3'],
    ['8080:80/udp', '8080:80/udp'],
  ])('%s', (src, value) => {
    expect(resolvePlain(src)).toEqual(value);
    expect(parseComposeYaml(`v: ${src}\n`, 'c.yaml').tree['v']).toEqual(value);
  });

  it('keeps quoted and block scalars as strings', () => {
    const t = parseComposeYaml('a: "123"\nb: \'true\'\nc: |\n  x\nd: !!str 0440\n', 'c.yaml').tree;
    expect(t).toEqual({ a: '123', b: 'true', c: 'x\n', d: '0440' });
  });
});

describe('compose/parse: structure', () => {
  it('gives an empty tree for an empty file or only comments', () => {
    expect(parseComposeYaml('', 'c.yaml').tree).toEqual({});
    expect(parseComposeYaml('# nothing\n', 'c.yaml').tree).toEqual({});
  });

  it('rejects a top level that is not a mapping', () => {
    expect(thrown(() => parseComposeYaml('- a\n- b\n', 'c.yaml')).message).toBe(
      'c.yaml:1:1: top-level object must be a mapping',
    );
  });

  it('reports YAML syntax errors with file:line:col', () => {
    const e = thrown(() => parseComposeYaml('services:\n  web:\n    image: [a\n', 'compose.yaml'));
    expect(e.code).toBe('TSC_COMPOSE_PARSE');
    expect(e.message).toMatch(/^compose\.yaml:\d+:\d+: yaml: /);
  });

  it('reports duplicate keys like go-yaml, at the second key', () => {
    const e = thrown(() =>
      parseComposeYaml('services:\n  web:\n    image: a\n    image: b\n', 'compose.yaml'),
    );
    expect(e.message).toBe(
      'compose.yaml:4:5 services.web: yaml: line 4: mapping key "image" already defined at line 3',
    );
  });

  it('expands anchors into independent copies and applies merge keys', () => {
    const t = parseComposeYaml(
      [
        'x-base: &base',
        '  image: busybox',
        '  environment: {A: "1"}',
        'x-more: &more',
        '  restart: always',
        '  image: other',
        'services:',
        '  a:',
        '    <<: [*base, *more]',
        '    command: run',
        '  b:',
        '    <<: *base',
        '    image: mine',
        '  c: *base',
        '',
      ].join('\n'),
      'c.yaml',
    ).tree;
    const s = t['services'] as RawMap;
    expect(s['a']).toEqual({
      image: 'busybox',
      environment: { A: '1' },
      restart: 'always',
      command: 'run',
    });
    expect(s['b']).toEqual({ image: 'mine', environment: { A: '1' } });
    expect(s['c']).toEqual({ image: 'busybox', environment: { A: '1' } });
    expect(s['c']).not.toBe(t['x-base']);
    expect((s['c'] as RawMap)['environment']).not.toBe((t['x-base'] as RawMap)['environment']);
  });

  it('treats `!!merge <<` as a merge key and a quoted "<<" as a plain key', () => {
    const t = parseComposeYaml(
      'x-a: &a {k: 1}\nb:\n  !!merge <<: *a\n  j: 2\nc:\n  "<<": 3\n',
      'c.yaml',
    ).tree;
    expect(t['b']).toEqual({ k: 1, j: 2 });
    expect(t['c']).toEqual({ '<<': 3 });
  });

  it('collects !reset (removed from the tree) and !override (kept) paths', () => {
    const p = parseComposeYaml(
      'services:\n  web:\n    ports: !reset []\n    command: !reset\n    environment: !override\n      A: "1"\n    image: !override 0440\n',
      'c.yaml',
    );
    expect(p.tree).toEqual({ services: { web: { environment: { A: '1' }, image: 288 } } });
    expect(p.resets).toEqual([
      ['services', 'web', 'ports'],
      ['services', 'web', 'command'],
    ]);
    expect(p.overrides).toEqual([
      ['services', 'web', 'environment'],
      ['services', 'web', 'image'],
    ]);
  });

  it('merges several documents of one file in order', () => {
    const p = parseComposeYaml(
      'services:\n  a:\n    image: x\n---\nservices:\n  a:\n    command: y\n',
      'c.yaml',
    );
    expect(p.tree).toEqual({ services: { a: { image: 'x', command: 'y' } } });
  });
});

describe('compose/parse: positions', () => {
  const text = [
    'name: demo', // 1
    'services:', // 2
    '  web:', // 3
    '    image: nginx', // 4
    '    ports:', // 5
    '      - "8080:80"', // 6
    '      - target: 443', // 7
    '        published: 8443', // 8
    '    environment:', // 9
    '      EMPTY:', // 10
    '  db: &db', // 11
    '    image: postgres', // 12
    '  db2: *db', // 13
    '',
  ].join('\n');
  const p = parseComposeYaml(text, 'compose.yaml');

  it.each([
    [['name'], 1, 7],
    [['services', 'web'], 4, 5],
    [['services', 'web', 'image'], 4, 12],
    [['services', 'web', 'ports', 0], 6, 9],
    [['services', 'web', 'ports', 1], 7, 9],
    [['services', 'web', 'ports', 1, 'published'], 8, 20],
    [['services', 'web', 'environment', 'EMPTY'], 10, 7],
    [['services', 'db2'], 13, 8],
    [['services', 'db2', 'image'], 13, 8],
    [['services', 'web', 'ports', 0, 'nope'], 6, 9],
  ] as const)('%j', (path, line, col) => {
    expect(p.positions.at(path)).toEqual({ line, col });
  });

  it('renders an error at a node as file:line:col path: detail', () => {
    const path = ['services', 'web', 'ports', 1] as const;
    const e = ComposeError.at(
      'TSC_COMPOSE_INVALID',
      { file: 'compose.yaml', path: 'services.web.ports[1]', position: p.positions.at(path) },
      'invalid port',
    );
    expect(e.message).toBe('compose.yaml:7:9 services.web.ports[1]: invalid port');
  });
});
