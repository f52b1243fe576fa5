// Schema validation against the corpus: schema-level `invalid` files fail with compose-go's
// message; `valid` files without interpolation or YAML tags pass.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parse } from 'yaml';

import type { RawMap } from '../../../compose/raw';
import { validateSchema } from '../../../compose/schema/index';

const CORPUS = join(__dirname, '../../../../shared/corpus');

interface Row {
  path: string;
  expect: string;
  error: string;
}
const rows: Row[] = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((l) => {
    const c = l.split('\t');
    return { path: c[0] ?? '', expect: c[4] ?? '', error: c[5] ?? '' };
  });

function load(path: string): RawMap {
  return parse(readFileSync(join(CORPUS, path), 'utf8'), {
    merge: true,
    maxAliasCount: -1,
  }) as RawMap;
}

/** The corpus `invalid` files whose failure is a schema error (compose-go's schema messages). */
const SCHEMA_INVALID = [
  'loader/loader/inline.TestBadDevelopConfig.yaml',
  'loader/loader/inline.TestInvalidEnvironmentObject.yaml',
  'loader/loader/inline.TestInvalidEnvironmentValue.yaml',
  'loader/loader/inline.TestInvalidProjectNameType.yaml',
  'loader/loader/inline.TestInvalidResource.yaml',
  'loader/loader/inline.TestLoadSSHWithoutValueInBuildConfig.yaml',
  'loader/loader/inline.TestLoadTmpfsVolumeAdditionalPropertyNotAllowed.yaml',
  'loader/loader/inline.TestLoadTmpfsVolumeSizeMustBeGTEQZero.yaml',
  'loader/loader/inline.TestLoadTmpfsVolumeSizeMustBeInteger.yaml',
  'loader/loader/inline.TestNonMappingObject.1.yaml',
  'loader/loader/inline.TestNonMappingObject.2.yaml',
  'loader/loader/inline.TestNonMappingObject.3.yaml',
  'loader/loader/inline.TestNonMappingObject.4.yaml',
  'loader/loader/inline.TestNonMappingObject.5.yaml',
  'loader/loader/inline.TestNonMappingObject.6.yaml',
  'loader/loader/inline.TestNonStringImage.yaml',
  'loader/loader/inline.TestServiceDeviceRequestCapabilitiesMandatory.yaml',
  'loader/loader/tests/inline.TestDevelopMissingAction.yaml',
  'loader/loader/tests/inline.TestEnvironmentInvalidObject.yaml',
  'loader/loader/tests/inline.TestEnvironmentInvalidValue.yaml',
];

describe('validateSchema on corpus invalid files', () => {
  test.each(SCHEMA_INVALID)('%s', (path) => {
    const row = rows.find((r) => r.path === path);
    expect(row?.expect).toBe('invalid');
    const details = validateSchema(load(path)).map((i) => i.detail);
    expect(details.join('\n')).toContain(row?.error ?? '<none>');
  });
});

describe('validateSchema on corpus valid files', () => {
  const plain = rows.filter((r) => {
    if (r.expect !== 'valid' || !/\.ya?ml$/.test(r.path)) return false;
    const text = readFileSync(join(CORPUS, r.path), 'utf8');
    return !text.includes('$') && !text.includes('!reset') && !text.includes('!override');
  });
  test('there are many plain valid files', () => {
    expect(plain.length).toBeGreaterThan(300);
  });
  test('none is rejected', () => {
    const rejected: string[] = [];
    for (const r of plain) {
      let tree: RawMap | null;
      try {
        tree = load(r.path);
      } catch {
        continue; // YAML-level failures belong to the parser's tests
      }
      if (tree === null || typeof tree !== 'object') continue;
      const issues = validateSchema(tree);
      // partial override fragments are validated after the merge, not alone
      if (issues.length > 0 && !r.path.includes('.override.'))
        rejected.push(`${r.path}: ${issues[0]?.detail ?? ''}`);
    }
    expect(rejected).toEqual([]);
  });
});

describe('validateSchema messages', () => {
  test('unknown service key', () => {
    expect(validateSchema({ services: { web: { image: 'x', foo: 1 } } })).toEqual([
      { path: ['services', 'web'], detail: "services.web additional properties 'foo' not allowed" },
    ]);
  });
  test('x- keys are allowed where the schema allows extensions', () => {
    expect(validateSchema({ 'x-a': 1, services: { web: { image: 'x', 'x-b': {} } } })).toEqual([]);
  });
  test('ports must be a list', () => {
    expect(validateSchema({ services: { web: { ports: '80' } } })[0]?.detail).toBe(
      'services.web.ports must be a array',
    );
  });
  test('every issue is reported, sorted by path', () => {
    const issues = validateSchema({ services: { b: { image: 1 }, a: { image: true } } });
    expect(issues.map((i) => i.detail)).toEqual([
      'services.a.image must be a string',
      'services.b.image must be a string',
    ]);
  });
  test('enum values', () => {
    expect(validateSchema({ services: { a: { cgroup: 'shared' } } })[0]?.detail).toMatch(
      /^services\.a\.cgroup value must be one of/,
    );
  });
});
