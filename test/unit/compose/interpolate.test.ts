import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ComposeError } from '../../../base/errors';
import {
  interpolateTree,
  renderInterpolationWarning,
  substitute,
  type InterpolationWarning,
} from '../../../compose/interpolate';
import { parseDotenv } from '../../../compose/dotenv';
import { parseComposeYaml } from '../../../compose/parse';
import type { RawMap } from '../../../compose/raw';

const CORPUS = process.env['TSC_CORPUS'] ?? join(__dirname, '../../../../shared/corpus');
const CASES = join(__dirname, '../../../../shared/cases');

interface TemplateCase {
  template: string;
  expect?: string;
  expect_error_contains?: string;
  warnings?: number;
  test: string;
  mapping_override?: Record<string, string>;
}
interface ModelCase {
  test: string;
  env: Record<string, string>;
  input: RawMap;
  expect?: RawMap;
  expect_error?: string;
}
interface TemplateFile {
  env: Record<string, string>;
  cases: TemplateCase[];
  interpolation_in_model: ModelCase[];
}

const data = JSON.parse(
  readFileSync(join(CORPUS, 'expected/interpolation/template-strings.json'), 'utf8'),
) as TemplateFile;

const lookupOf =
  (env: Record<string, string>) =>
  (name: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined;

function thrown(f: () => unknown): ComposeError {
  try {
    f();
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error('expected a ComposeError');
}

describe('compose/interpolate: corpus template-strings.json', () => {
  it.each(data.cases.map((c, i) => [`${c.test} #${i} ${c.template}`, c] as const))(
    '%s',
    (_n, c) => {
      const lookup = lookupOf(c.mapping_override ?? data.env);
      const unset: string[] = [];
      const run = (): string => substitute(c.template, lookup, { onUnset: (n) => unset.push(n) });
      if (c.expect_error_contains !== undefined) {
        const e = thrown(run);
        expect(e.code).toBe('TSC_COMPOSE_INTERPOLATE');
        expect(e.message.toLowerCase()).toContain(c.expect_error_contains.toLowerCase());
        return;
      }
      expect(run()).toBe(c.expect);
      if (c.warnings !== undefined) expect(unset).toHaveLength(c.warnings);
    },
  );

  it.each(data.interpolation_in_model.map((c) => [c.test, c] as const))('model: %s', (_n, c) => {
    const run = (): RawMap =>
      interpolateTree({ file: 'compose.yaml', tree: c.input }, lookupOf(c.env), () => {});
    if (c.expect_error !== undefined) {
      const e = thrown(run);
      // compose-go: "invalid interpolation format for servicea.image ... escape any $ ... ${"
      expect(e.message).toContain('servicea.image');
      expect(e.message).toContain('invalid interpolation format');
      expect(e.message).toContain('"${"');
      expect(e.hint).toBe('escape "$" as "$$"');
      return;
    }
    expect(run()).toEqual(c.expect);
  });
});

describe('compose/interpolate: tree', () => {
  it('names file:line:col and path of a required variable', () => {
    const parsed = parseComposeYaml(
      'services:\n  web:\n    image: nginx\n    ports:\n      - "${PORT:?set PORT}:80"\n',
      'compose.yaml',
    );
    const e = thrown(() =>
      interpolateTree(
        parsed,
        () => undefined,
        () => {},
      ),
    );
    expect(e.message).toBe(
      'compose.yaml:5:9 services.web.ports[0]: required variable PORT is missing a value: set PORT',
    );
  });

  it('renders the invalid-template error with position and hint', () => {
    const parsed = parseComposeYaml('services:\n  web:\n    image: "a${"\n', 'compose.yaml');
    const e = thrown(() =>
      interpolateTree(
        parsed,
        () => undefined,
        () => {},
      ),
    );
    expect(e.message).toBe(
      'compose.yaml:3:12 services.web.image: invalid interpolation format: invalid template: "a${"',
    );
    expect(e.hint).toBe('escape "$" as "$$"');
  });

  it('casts numbers and booleans at typed paths, leaves others as strings', () => {
    const tree: RawMap = {
      services: {
        web: {
          image: 'x:${N}',
          deploy: { replicas: '${N}', resources: { limits: { cpus: '${C}' } } },
          cpus: '${C}',
          read_only: '${B}',
          privileged: '${Y}',
          ports: [{ target: '${N}', published: '${N}' }],
          healthcheck: { retries: '${N}' },
          environment: { N: '${N}' },
        },
      },
      networks: { n: { external: '${B}' } },
      'x-ext': { v: '${N}' },
    };
    const env: Record<string, string> = { N: '3', C: '0.5', B: 'true', Y: 'yes' };
    const out = interpolateTree({ file: 'c.yaml', tree }, lookupOf(env), () => {});
    expect(out).toEqual({
      services: {
        web: {
          image: 'x:3',
          deploy: { replicas: 3, resources: { limits: { cpus: '0.5' } } },
          cpus: 0.5,
          read_only: true,
          privileged: true,
          ports: [{ target: 3, published: '3' }],
          healthcheck: { retries: 3 },
          environment: { N: '3' },
        },
      },
      networks: { n: { external: true } },
      'x-ext': { v: '3' },
    });
  });

  it('does not interpolate keys', () => {
    const out = interpolateTree(
      { file: 'c.yaml', tree: { services: { web: { labels: { '${K}': '${V}' } } } } },
      lookupOf({ K: 'k', V: 'v' }),
      () => {},
    );
    expect(out).toEqual({ services: { web: { labels: { '${K}': 'v' } } } });
  });

  it('fails a cast that cannot convert, at its path', () => {
    const parsed = parseComposeYaml(
      'services:\n  web:\n    deploy:\n      replicas: ${N}\n',
      'compose.yaml',
    );
    const e = thrown(() => interpolateTree(parsed, lookupOf({ N: 'many' }), () => {}));
    expect(e.message).toBe(
      'compose.yaml:4:17 services.web.deploy.replicas: failed to cast to expected type: "many" is not an integer',
    );
  });

  it('reports one warning per unset use, with its path, in docker compose wording', () => {
    const warnings: InterpolationWarning[] = [];
    interpolateTree(
      {
        file: 'c.yaml',
        tree: { services: { a: { image: '${FOO}', command: ['$FOO', '${BAR:-x}'] } } },
      },
      () => undefined,
      (w) => warnings.push(w),
    );
    expect(warnings).toEqual([
      { variable: 'FOO', path: ['services', 'a', 'image'] },
      { variable: 'FOO', path: ['services', 'a', 'command', 0] },
    ]);
    expect(renderInterpolationWarning(warnings[0]!)).toBe(
      'WARN[0000] The "FOO" variable is not set. Defaulting to a blank string.',
    );
  });

  describe('case 005: ${A:+${A},} does not warn when A is unset', () => {
    const text = readFileSync(
      join(CASES, '005-alternate-value-nested-no-false-warning/compose.yaml'),
      'utf8',
    );
    const parsed = parseComposeYaml(text, 'compose.yaml');
    const envOf = (tree: RawMap): unknown =>
      ((tree['services'] as RawMap)['joiner'] as RawMap)['environment'];

    it('EXTRA_ITEMS unset', () => {
      const warnings: InterpolationWarning[] = [];
      const out = interpolateTree(
        parsed,
        () => undefined,
        (w) => warnings.push(w),
      );
      expect(envOf(out)).toEqual({ JOINED: 'base', PREFIXED: '' });
      expect(warnings).toEqual([]);
    });

    it('EXTRA_ITEMS=x,y', () => {
      const warnings: InterpolationWarning[] = [];
      const out = interpolateTree(parsed, lookupOf({ EXTRA_ITEMS: 'x,y' }), (w) =>
        warnings.push(w),
      );
      expect(envOf(out)).toEqual({ JOINED: 'x,y,base', PREFIXED: 'has-extra' });
      expect(warnings).toEqual([]);
    });

    it('keeps $$ escapes as a single $ in the command', () => {
      const out = interpolateTree(
        parsed,
        () => undefined,
        () => {},
      );
      const cmd = ((out['services'] as RawMap)['joiner'] as RawMap)['command'] as string[];
      expect(cmd[2]).toBe('echo "joined=$JOINED prefixed=$PREFIXED"');
    });
  });
});

describe('case 002: .env with inline comments feeds interpolation', () => {
  const dir = join(CASES, '002-dotenv-inline-comment-in-interpolation');
  it('interpolates ports and labels from the project .env', () => {
    const env = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'), '.env', () => undefined);
    const parsed = parseComposeYaml(
      readFileSync(join(dir, 'compose.yaml'), 'utf8'),
      'compose.yaml',
    );
    const warnings: InterpolationWarning[] = [];
    const out = interpolateTree(
      parsed,
      (n) => env.get(n),
      (w) => warnings.push(w),
    );
    const web = (out['services'] as RawMap)['web'] as RawMap;
    expect(web['ports']).toEqual(['18080:80']);
    expect(web['labels']).toEqual({
      'example.release': 'rel-7#not-a-comment',
      'example.owner': 'Team Blue',
    });
    expect(web['environment']).toBeUndefined();
    expect(warnings).toEqual([]);
  });
});

describe('corpus TestLoadWithInterpolationCastFull (raw level)', () => {
  it('casts interpolated values at the typed paths only', () => {
    const meta = JSON.parse(
      readFileSync(join(CORPUS, 'expected/model/interp-cast-types.json'), 'utf8'),
    ) as { file: string; env: Record<string, string> };
    const parsed = parseComposeYaml(readFileSync(join(CORPUS, meta.file), 'utf8'), meta.file);
    const out = interpolateTree(parsed, lookupOf(meta.env), () => {});
    const web = (out['services'] as RawMap)['web'] as RawMap;
    expect(web['healthcheck']).toEqual({ retries: 555, disable: true });
    expect(web['deploy']).toEqual({
      replicas: 555,
      update_config: { parallelism: 555, max_failure_ratio: 3.14 },
      rollback_config: { parallelism: 555, max_failure_ratio: 3.14 },
      restart_policy: { max_attempts: 555 },
      placement: { max_replicas_per_node: 555 },
    });
    expect(web['ports']).toEqual([
      '555',
      '34567',
      { target: 555, published: '555', 'x-foo-bar': true },
    ]);
    expect(web['ulimits']).toEqual({ nproc: 555, nofile: { hard: 555, soft: 555 } });
    expect(web['configs']).toEqual([{ source: 'appconfig', mode: '555' }]);
    expect([web['privileged'], web['read_only'], web['stdin_open'], web['tty']]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([web['shm_size'], web['stop_grace_period']]).toEqual(['2gb', '60s']);
    expect(web['volumes']).toEqual([
      {
        source: 'data',
        type: 'volume',
        target: '/data',
        read_only: true,
        volume: { nocopy: true },
      },
    ]);
    expect(out['networks']).toEqual({
      front: { external: true, internal: true, attachable: true },
      back: null,
    });
    expect((out['volumes'] as RawMap)['data']).toEqual({ external: true });
  });
});
