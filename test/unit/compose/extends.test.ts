import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ComposeError } from '../../../base/errors';
import { resolveExtends } from '../../../compose/extends';
import { parseComposeYaml, type ParsedFile } from '../../../compose/parse';
import type { RawMap } from '../../../compose/raw';

const CORPUS = process.env['TSC_CORPUS'] ?? join(__dirname, '../../../../shared/corpus');
const LOADER = join(CORPUS, 'loader/loader');
const CASE_012 = join(__dirname, '../../../../shared/cases/012-extends-other-dir-relative-paths');

/** Loads a file from disk and resolves its extends, recording which files were loaded. */
function loadFile(file: string, loads: string[] = []): RawMap {
  const parsed = parseComposeYaml(readFileSync(file, 'utf8'), file);
  return resolveExtends(parsed.tree, {
    file,
    tags: parsed,
    positions: parsed.positions,
    load: (abs) => {
      loads.push(abs);
      return parseComposeYaml(readFileSync(abs, 'utf8'), abs);
    },
  });
}

/** Resolves extends in an in-memory set of files. */
function inMemory(files: Record<string, string>, entry: string): RawMap {
  const parse = (f: string): ParsedFile => parseComposeYaml(files[f] ?? '', f);
  const parsed = parse(entry);
  return resolveExtends(parsed.tree, {
    file: entry,
    tags: parsed,
    positions: parsed.positions,
    load: parse,
  });
}

function thrown(f: () => unknown): ComposeError {
  try {
    f();
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error('expected a ComposeError');
}

const svc = (tree: RawMap, name: string): RawMap => (tree['services'] as RawMap)[name] as RawMap;

describe('compose/extends', () => {
  it('same file, chained, with the extending values winning', () => {
    const tree = inMemory(
      {
        '/p/compose.yaml': [
          'services:',
          '  a:',
          '    extends: b',
          '    environment: [A=1]',
          '  b:',
          '    extends: {service: c}',
          '    environment: {B: "2"}',
          '    command: [b]',
          '  c:',
          '    image: busybox',
          '    command: [c]',
          '',
        ].join('\n'),
      },
      '/p/compose.yaml',
    );
    expect(svc(tree, 'a')).toEqual({
      image: 'busybox',
      command: ['b'],
      environment: ['B=2', 'A=1'],
    });
    expect(svc(tree, 'b')).toEqual({ image: 'busybox', command: ['b'], environment: { B: '2' } });
    expect(svc(tree, 'a')['extends']).toBeUndefined();
  });

  it('corpus TestExtends: other file, chain inside the other file', () => {
    const tree = loadFile(join(LOADER, 'inline.TestExtends.yaml'));
    expect(svc(tree, 'test1')).toEqual({ image: 'base', hostname: 'test1' });
    expect(svc(tree, 'test2')).toEqual({ image: 'base', hostname: 'test2' });
    expect(svc(tree, 'test3')).toEqual({ image: 'base', hostname: 'test3' });
  });

  it('corpus TestExtendsReset: !reset in the extended file removes the inherited key', () => {
    const tree = loadFile(join(LOADER, 'inline.TestExtendsReset.yaml'));
    expect(svc(tree, 'test')).toEqual({ image: 'alpine:latest' });
  });

  it('corpus TestLoadExtendsWihReset: !reset in the extending service', () => {
    const tree = loadFile(join(LOADER, 'inline.TestLoadExtendsWihReset.yaml'));
    expect(svc(tree, 'foo')).toEqual({ image: 'alpine', command: 'echo' });
  });

  it('corpus TestExtendsWithServiceRef: referenced services are not carried over', () => {
    const tree = loadFile(join(LOADER, 'inline.TestExtendsWithServiceRef.depends_on.yaml'));
    expect(Object.keys(tree['services'] as RawMap)).toEqual(['bar']);
    expect(svc(tree, 'bar')).toEqual({ image: 'foo', depends_on: ['zot'] });
  });

  it('corpus TestExtendsWihtMissingService: extends.file without service', () => {
    const e = thrown(() => loadFile(join(LOADER, 'inline.TestExtendsWihtMissingService.yaml')));
    expect(e.code).toBe('TSC_COMPOSE_EXTENDS');
    expect(e.message).toContain('extends.test.service is required');
    expect(e.message).toMatch(
      /inline\.TestExtendsWihtMissingService\.yaml:6:7 services\.test\.extends: /,
    );
  });

  it('case 012: relative paths of a base in another directory resolve against that directory', () => {
    const tree = loadFile(join(CASE_012, 'custom/compose.yaml'));
    const base = join(CASE_012, 'base');
    expect(svc(tree, 'worker')).toEqual({
      image: 'example.test/extends-worker:dev',
      build: join(base, 'worker'),
      env_file: join(base, 'worker.env'),
      volumes: [`${join(base, 'shared')}:/shared:ro`],
      command: ['sh', '-c', 'cat /baked.txt; echo role=$$ROLE local=$$LOCAL; ls /shared'],
      environment: { LOCAL: 'yes' },
    });
  });

  it('rebases long-syntax binds, env_file entries and a build map without context', () => {
    const tree = inMemory(
      {
        '/p/app/compose.yaml':
          'services:\n  a:\n    extends: {file: ../lib/base.yaml, service: b}\n',
        '/p/lib/base.yaml': [
          'services:',
          '  b:',
          '    build: {dockerfile: Dockerfile.dev}',
          '    env_file: [{path: ./x.env, required: false}, y.env]',
          '    volumes:',
          '      - {type: bind, source: ./data, target: /data}',
          '      - {type: volume, source: named, target: /v}',
          '      - named2:/w',
          '      - /abs:/abs',
          '',
        ].join('\n'),
      },
      '/p/app/compose.yaml',
    );
    expect(svc(tree, 'a')).toEqual({
      build: { dockerfile: 'Dockerfile.dev', context: '/p/lib' },
      env_file: [{ path: '/p/lib/x.env', required: false }, '/p/lib/y.env'],
      volumes: [
        { type: 'bind', source: '/p/lib/data', target: '/data' },
        { type: 'volume', source: 'named', target: '/v' },
        'named2:/w',
        '/abs:/abs',
      ],
    });
  });

  it('keeps paths relative when the base file is in the same directory', () => {
    const tree = inMemory(
      {
        '/p/compose.yaml': 'services:\n  a:\n    extends: {file: base.yaml, service: b}\n',
        '/p/base.yaml': 'services:\n  b:\n    build: ./ctx\n',
      },
      '/p/compose.yaml',
    );
    expect(svc(tree, 'a')).toEqual({ build: './ctx' });
  });

  it('detects cycles in one file and across files', () => {
    const one = thrown(() =>
      inMemory(
        { '/p/c.yaml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n' },
        '/p/c.yaml',
      ),
    );
    expect(one.code).toBe('TSC_COMPOSE_EXTENDS');
    expect(one.message).toContain(
      'circular reference in extends: /p/c.yaml#a -> /p/c.yaml#b -> /p/c.yaml#a',
    );
    const two = thrown(() =>
      inMemory(
        {
          '/p/c.yaml': 'services:\n  a:\n    extends: {file: d.yaml, service: b}\n',
          '/p/d.yaml': 'services:\n  b:\n    extends: {file: c.yaml, service: a}\n',
        },
        '/p/c.yaml',
      ),
    );
    expect(two.message).toContain(
      'circular reference in extends: /p/c.yaml#a -> /p/d.yaml#b -> /p/c.yaml#a',
    );
  });

  it('names a missing base service', () => {
    const e = thrown(() =>
      inMemory({ '/p/c.yaml': 'services:\n  a:\n    image: x\n    extends: nope\n' }, '/p/c.yaml'),
    );
    expect(e.message).toBe(
      '/p/c.yaml:4:14 services.a.extends: cannot extend service "a" in /p/c.yaml: service "nope" not found',
    );
  });

  it('loads each other file once', () => {
    const loads: string[] = [];
    loadFile(join(LOADER, 'inline.TestExtends.yaml'), loads);
    expect(loads.map((f) => dirname(f) === join(LOADER, 'testdata/extends'))).toEqual([true]);
  });
});

describe('compose/extends: corpus chains with !override', () => {
  it('TestOverrideMiddle: !override in the middle file drops the base values', () => {
    const tree = loadFile(join(LOADER, 'inline.TestOverrideMiddle/compose.yaml'));
    expect(svc(tree, 'test')).toEqual({
      image: 'test',
      volumes: ['/bar:/bar', '/zot:/zot'],
      networks: ['zot'],
    });
  });

  it('TestLoadExtendsDependsOn: depends_on !override replaces the inherited list', () => {
    const tree = loadFile(join(LOADER, 'inline.TestLoadExtendsDependsOn.yaml'));
    expect(svc(tree, 'service_b')).toEqual({ image: 'a', depends_on: ['service_a'] });
  });

  it('TestOverrideSelfExtends: chained same-file extends merge depends_on', () => {
    const tree = loadFile(join(LOADER, 'inline.TestOverrideSelfExtends.yaml'));
    const main = svc(tree, 'main');
    expect(main['image']).toBe('nginx');
    expect(main['ports']).toEqual(['8090:80']);
    expect(main['depends_on']).toEqual({
      depend_two: { condition: 'service_started', required: true },
      depend_base: { condition: 'service_started', required: true },
    });
  });
});

describe('compose/extends: corpus TestParseYAMLFilesMergeOverride', () => {
  it('!override reached through a YAML merge key applies to the copy too', () => {
    const tree = loadFile(join(LOADER, 'inline.TestParseYAMLFilesMergeOverride.yaml'));
    const configs = [{ source: 'credentials', target: '/literally-anywhere-else' }];
    expect(svc(tree, 'x')).toEqual({ configs });
    expect(svc(tree, 'y')).toEqual({ configs });
    expect(svc(tree, 'base')).toEqual({
      configs: [{ source: 'credentials', target: '/credentials/file1' }],
    });
  });
});
