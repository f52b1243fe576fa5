/**
 * Conformance against ../shared/corpus (compose files from compose-go and docker/compose with
 * their expected outcomes): every `valid` file loads, every `invalid` one fails for the stated
 * reason, every model fact holds. Deliberate exceptions live in docs/compose-differences.md and
 * in DIFFERENCES below; a test keeps the two in step.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { isTscError } from '../../../base/errors';
import { loadProject, type LoadOptions, type ResourceLoader } from '../../../compose/index';
import { renderConfig } from '../../../compose/render';
import { CORPUS, DOCS } from '../../helpers/paths';

interface ManifestRow {
  readonly path: string;
  /** `<go test file>:<Test func>#<n>` for inline files. */
  readonly source: string;
  readonly expect: string;
  readonly expectError: string;
  readonly note: string;
}

/**
 * Corpus files whose upstream outcome depends on a compose-go API option that docker compose's
 * CLI does not expose; each is explained in docs/compose-differences.md under its path.
 */
const DIFFERENCES: Record<string, string> = {
  'loader/loader/inline.Test_DuplicateReset.yaml':
    'the extracted file lost the leading newline of the Go string literal, so line numbers are one less',
  'loader/loader/inline.TestLoadEmptyContent_MissingProject.yaml':
    'loader API called without a project name; the CLI (and tscompose) derive it from the directory',
};

/**
 * Context an upstream test gave a file that its MANIFEST note does not state: extra -f files
 * before it, or environment. Test data, not exceptions: the file must load with it.
 */
const CONTEXT: Record<
  string,
  { readonly before?: string[]; readonly env?: Record<string, string> }
> = {
  // e2e TestPublish: `-f compose.yaml -f compose-override.yaml` (the override adds env_file only).
  'e2e/fixtures/publish/oci/compose-override.yaml': { before: ['compose.yaml'] },
  // e2e TestUpImageID sets ID to the image id it built before `up`.
  'e2e/testdata/TestUpImageID/compose.yaml': { env: { ID: 'sha256:0123456789abcdef' } },
};

function readManifest(): ManifestRow[] {
  const lines = readFileSync(join(CORPUS, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const c = l.split('\t');
      return {
        path: c[0] ?? '',
        source: c[2] ?? '',
        expect: c[4] ?? '',
        expectError: c[5] ?? '',
        note: c[6] ?? '',
      };
    });
}

function envFromNote(note: string): Record<string, string> {
  const bare = /needs env ([A-Z_][A-Z0-9_]*)[;\s]/.exec(note);
  if (bare?.[1]) return { [bare[1]]: 'fixed-name' };
  const m = /needs env: ([^;]+)/.exec(note);
  if (!m?.[1]) return {};
  const env: Record<string, string> = {};
  for (const part of m[1].split(/,\s*(?=[A-Za-z_][A-Za-z0-9_]*=)/)) {
    const eq = part.indexOf('=');
    if (eq > 0) env[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return env;
}

function filesFromNote(row: ManifestRow): string[] {
  const via = /loaded via include from ([^\s;]+)/.exec(row.note);
  if (via?.[1]) return [includer(dirname(join(CORPUS, row.path)), via[1])];
  const m = /-f ([^\s;]+)(?: -f ([^\s;]+))?(?: -f ([^\s;]+))?/.exec(row.note);
  if (row.note.includes('multi-file') && m) {
    return m
      .slice(1)
      .filter((x): x is string => x !== undefined)
      .map((f) => join(dirname(join(CORPUS, row.path)), f));
  }
  const before = (CONTEXT[row.path]?.before ?? []).map((f) =>
    join(dirname(join(CORPUS, row.path)), f),
  );
  return [...before, join(CORPUS, row.path)];
}

/** The file that includes a corpus include target, named relative to some parent of `dir`. */
function includer(dir: string, name: string): string {
  for (let d = dir; d.startsWith(CORPUS); d = dirname(d)) {
    const base = join(d, dirname(name));
    const pattern = new RegExp(`^${basename(name).replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
    const hit = existsSync(base)
      ? readdirSync(base)
          .filter((f) => pattern.test(f))
          .sort()[0]
      : undefined;
    if (hit !== undefined) return join(base, hit);
  }
  throw new Error(`no includer ${name} above ${dir}`);
}

/** Multi-file groups ran in the Go test's directory (the first -f file may sit deeper). */
function upstreamDir(row: ManifestRow): Partial<LoadOptions> {
  return row.note.includes('multi-file')
    ? { projectDirectory: dirname(join(CORPUS, row.path)) }
    : {};
}

const isComposeFile = (p: string): boolean => /\.ya?ml$/.test(p) && !p.includes('/dotenv/');
const baseEnv = { HOME: '/root', PATH: '/usr/bin:/bin' };

/** compose-go's tests map `remote:X` to testdata/remote/X through a custom resource loader. */
const remoteLoader: ResourceLoader = {
  accepts: (ref) => ref.startsWith('remote:'),
  load: (ref) => join(CORPUS, 'loader/loader/testdata/remote', ref.slice('remote:'.length)),
};

function load(files: string[], env: Record<string, string>, extra: Partial<LoadOptions> = {}) {
  return loadProject({
    cwd: dirname(files[0] ?? CORPUS),
    files,
    environment: { ...baseEnv, ...env },
    homeDir: '/root',
    resourceLoaders: [remoteLoader],
    ...extra,
  });
}

const manifest = readManifest();

describe('compose corpus: MANIFEST valid files load', () => {
  const rows = manifest.filter((r) => r.expect === 'valid' && isComposeFile(r.path));
  // compose-go's loader_test.go helper (loadYAML) loads with SkipConsistencyCheck.
  const loose = (r: ManifestRow) =>
    /SkipConsistencyCheck|no-consistency|WithSelectedServices|Windows-only/.test(r.note) ||
    r.source.startsWith('loader/loader_test.go:');
  it.each(rows.map((r) => [r.path, r] as const))('%s', (path, row) => {
    if (DIFFERENCES[path]) return expect(docsMention(path)).toBe(true);
    const files = filesFromNote(row);
    // An include target runs with the environment its includer's test gave.
    const owner = manifest.find((r) => join(CORPUS, r.path) === files[0]) ?? row;
    const env = { ...envFromNote(owner.note), ...envFromNote(row.note), ...CONTEXT[row.path]?.env };
    const run = () => load(files, env, { consistency: !loose(row), ...upstreamDir(row) });
    expect(run).not.toThrow();
  });
});

describe('compose corpus: MANIFEST invalid files fail for the stated reason', () => {
  const rows = manifest.filter((r) => r.expect === 'invalid' && isComposeFile(r.path));
  it.each(rows.map((r) => [r.path, r] as const))('%s', (path, row) => {
    if (DIFFERENCES[path]) return expect(docsMention(path)).toBe(true);
    let caught: unknown;
    try {
      load(filesFromNote(row), envFromNote(row.note), upstreamDir(row));
    } catch (e) {
      caught = e;
    }
    expect(isTscError(caught)).toBe(true);
    expect((caught as Error).message.toLowerCase()).toContain(row.expectError.toLowerCase());
  });
});

interface ModelFact {
  readonly id: string;
  readonly file: string;
  readonly files?: string[];
  readonly env: Record<string, string>;
  readonly options?: {
    project_name?: string;
    profiles?: string[];
    env_files?: string[];
    project_directory?: string;
    working_dir?: string;
    no_file_flag?: boolean;
    discard_env_files?: boolean;
  };
  readonly source: { readonly path: string; readonly test: string };
  readonly expect: Record<string, unknown>;
  readonly expect_absent?: string[];
  readonly note?: string;
}

function readFacts<T>(dir: string): T[] {
  const full = join(CORPUS, 'expected', dir);
  return readdirSync(full)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(full, f), 'utf8')) as T);
}

/** Reads `a.b[0].c` (or `.length`) from a JSON value. */
function at(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const raw of path.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(raw);
    const key = m?.[1] ?? raw;
    if (key === 'length' && Array.isArray(cur)) {
      cur = cur.length;
    } else if (key !== '') {
      if (cur === null || typeof cur !== 'object' || !(key in cur)) return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
    for (const idx of (m?.[2] ?? '').matchAll(/\[(\d+)\]/g)) {
      if (!Array.isArray(cur)) return undefined;
      cur = cur[Number(idx[1])];
    }
  }
  return cur;
}

function substitute(v: unknown, name: string): unknown {
  if (typeof v === 'string')
    return v.split('<CORPUS>').join(CORPUS).split('<PROJECT_NAME>').join(name);
  if (Array.isArray(v)) return v.map((x) => substitute(x, name));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, name)]));
  }
  return v;
}

function loadFact(f: ModelFact): Record<string, unknown> {
  const o = f.options ?? {};
  const files = (f.files ?? [f.file]).map((p) => join(CORPUS, p));
  const cwd = o.working_dir ? join(CORPUS, o.working_dir) : dirname(files[0] ?? CORPUS);
  // Several files ran in the Go test's directory: the deepest directory holding all of them.
  const common = files.map(dirname).reduce((a, b) => {
    while (!`${b}/`.startsWith(`${a}/`)) a = dirname(a);
    return a;
  });
  const envFiles = (o.env_files ?? [])
    .filter((e) => !e.startsWith('<'))
    .map((e) => join(CORPUS, e));
  const { project } = loadProject({
    cwd,
    // compose-go's loader_test.go helpers load with SkipConsistencyCheck; raw-model tests
    // (loader_yaml_test.go) skip validation altogether.
    consistency: f.source.path !== 'loader/loader_test.go' && !f.note?.startsWith('raw model'),
    files: o.no_file_flag ? [] : files,
    environment: { ...baseEnv, ...f.env },
    homeDir: '/root',
    ...(o.project_name ? { projectName: o.project_name } : {}),
    ...(o.profiles ? { profiles: o.profiles } : {}),
    ...(envFiles.length ? { envFiles } : {}),
    ...(o.project_directory
      ? { projectDirectory: join(CORPUS, o.project_directory) }
      : files.length > 1
        ? { projectDirectory: common }
        : {}),
  });
  const json = JSON.parse(renderConfig(project, { format: 'json' })) as Record<string, unknown>;
  if (o.discard_env_files) {
    for (const s of Object.values(
      (json.services ?? {}) as Record<string, Record<string, unknown>>,
    )) {
      delete s.env_file;
    }
  }
  return json;
}

/**
 * Facts state model values (Go struct fields). `config --format json` leaves a Go zero-value
 * boolean out (`omitempty`), so an expected `false` matches a missing key.
 */
function matches(actual: unknown, expected: unknown): boolean {
  if (expected === false && actual === undefined) return true;
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, v]) =>
      matches((actual as Record<string, unknown>)[k], v),
    );
  }
  return JSON.stringify(actual) === JSON.stringify(expected);
}

describe('compose corpus: model facts', () => {
  const facts = readFacts<ModelFact>('model');
  it.each(facts.map((f) => [f.id, f] as const))('%s', (_id, fact) => {
    const invalid = /^invalid: "(.*)"$/.exec(fact.note ?? '');
    if (invalid?.[1] !== undefined) {
      expect(() => loadFact(fact)).toThrow(invalid[1]);
      return;
    }
    const json = loadFact(fact);
    const name = String(json.name);
    for (const [path, want] of Object.entries(fact.expect)) {
      const got = at(json, path);
      const expected = substitute(want, name);
      if (!matches(got, expected)) {
        expect({ path, value: got }).toEqual({ path, value: expected });
      }
    }
    // Upstream asserts these are nil in a Go map: an unresolved `- VAR` entry (null) is nil too.
    for (const path of fact.expect_absent ?? []) {
      const got = at(json, path);
      expect({ path, value: got === null ? undefined : got }).toEqual({ path, value: undefined });
    }
  });
});

interface ErrorFact {
  readonly file: string;
  readonly expect_error_contains?: string;
  readonly env: Record<string, string>;
}

describe('compose corpus: error facts', () => {
  const facts = readFacts<ErrorFact>('errors').filter((f) => isComposeFile(f.file));
  it.each(facts.map((f) => [f.file, f] as const))('%s', (file, fact) => {
    if (DIFFERENCES[file]) return expect(docsMention(file)).toBe(true);
    const row = manifest.find((r) => r.path === file);
    let caught: unknown;
    try {
      const env = { ...fact.env, ...(row ? envFromNote(row.note) : {}) };
      load(row ? filesFromNote(row) : [join(CORPUS, file)], env, row ? upstreamDir(row) : {});
    } catch (e) {
      caught = e;
    }
    expect(isTscError(caught)).toBe(true);
    expect((caught as Error).message.toLowerCase()).toContain(
      (fact.expect_error_contains ?? '').toLowerCase(),
    );
  });
});

function docsMention(path: string): boolean {
  return readFileSync(join(DOCS, 'compose-differences.md'), 'utf8').includes(path);
}

describe('compose corpus: documented differences', () => {
  it('lists every exception in docs/compose-differences.md', () => {
    for (const path of Object.keys(DIFFERENCES)) expect(docsMention(path)).toBe(true);
  });
});
