/**
 * The config-checkable reported-problem cases (../shared/cases 002 003 005 007 008 010 012 015
 * 017 020 039 040), asserted with their exact expected values through `config`'s own code path.
 * The container-running halves of 005, 007, 008, 017, 020, 040 belong to the orchestrator tests.
 */
import { join } from 'node:path';

import { ComposeError } from '../../../base/errors';
import { runConfig, type ConfigOptions } from '../../../cli/commands/config';
import type { GlobalOptions } from '../../../cli/options';
import { CASES } from '../../helpers/paths';

const caseDir = (prefix: string, ...sub: string[]): string => {
  const names: Record<string, string> = {
    '002': '002-dotenv-inline-comment-in-interpolation',
    '003': '003-envfile-unquoted-value-with-spaces-and-equals',
    '005': '005-alternate-value-nested-no-false-warning',
    '007': '007-env-precedence-environment-envfile-dotenv',
    '008': '008-required-variable-fails-fast',
    '010': '010-override-merge-ports-env-volumes',
    '012': '012-extends-other-dir-relative-paths',
    '015': '015-explicit-f-skips-override-file',
    '017': '017-ports-host-range-to-single-container-port',
    '020': '020-volume-short-syntax-options',
    '039': '039-project-name-from-dotted-dir',
    '040': '040-project-name-numeric-dir',
  };
  return join(CASES, names[prefix] ?? prefix, ...sub);
};

type Json = Record<string, any>;

/** Runs `config --format json` in `dir` with exactly `env` as the process environment. */
function config(
  dir: string,
  g: GlobalOptions = {},
  env: Record<string, string> = {},
  opts: ConfigOptions = {},
): { json: Json; warnings: string[] } {
  const warnings: string[] = [];
  const saved = { cwd: process.cwd(), env: process.env };
  const warn = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    warnings.push(String(s));
    return true;
  });
  try {
    process.chdir(dir);
    process.env = { HOME: '/root', PATH: saved.env.PATH, ...env };
    const text = runConfig(g, { format: 'json', ...opts });
    return { json: JSON.parse(text) as Json, warnings };
  } finally {
    process.chdir(saved.cwd);
    process.env = saved.env;
    warn.mockRestore();
  }
}

function configError(dir: string, g: GlobalOptions, env: Record<string, string>): ComposeError {
  try {
    config(dir, g, env);
  } catch (e) {
    if (e instanceof ComposeError) return e;
    throw e;
  }
  throw new Error('expected config to fail');
}

describe('cases: config-checkable reported problems', () => {
  it('002: inline comments in .env do not leak into interpolated values', () => {
    const { json } = config(caseDir('002'), { projectName: 'tsc-case-002' });
    expect(json.services.web.ports).toEqual([
      { mode: 'ingress', target: 80, published: '18080', protocol: 'tcp' },
    ]);
    expect(json.services.web.labels['example.release']).toBe('rel-7#not-a-comment');
    expect(json.services.web.labels['example.owner']).toBe('Team Blue');
    const env = (json.services.web.environment ?? {}) as Json;
    for (const k of ['WEB_PORT', 'BUILD_LABEL', 'OWNER_NAME']) expect(env).not.toHaveProperty(k);
  });

  it('003: unquoted env_file values keep spaces and every "=" after the first', () => {
    const { json } = config(caseDir('003'), { projectName: 'tsc-case-003' });
    expect(json.services.jvm.environment).toEqual({
      JAVA_OPTS: '-Xmx2048m -Dapp.mode=demo -Dfeature.flag=on',
      KV_VALUE: 'key=value=more',
      SPACED_VALUE: 'padded value',
    });
  });

  it('005: ${A:+${A},} neither warns nor evaluates when A is unset', () => {
    const unset = config(caseDir('005'), { projectName: 'tsc-case-005' });
    expect(unset.json.services.joiner.environment).toMatchObject({ JOINED: 'base', PREFIXED: '' });
    expect(unset.warnings.join('')).not.toContain('EXTRA_ITEMS');
    const set = config(caseDir('005'), { projectName: 'tsc-case-005' }, { EXTRA_ITEMS: 'x,y' });
    expect(set.json.services.joiner.environment).toMatchObject({
      JOINED: 'x,y,base',
      PREFIXED: 'has-extra',
    });
    expect(set.warnings.join('')).not.toMatch(/EXTRA_ITEMS|not set/i);
  });

  it('007: environment beats env_file, later env_file wins, .env never injects', () => {
    const { json } = config(caseDir('007'), {
      projectName: 'tsc-case-007',
      file: ['compose.yaml', 'compose.dev.yaml'],
    });
    expect(json.services.simple.environment).toEqual({ MY_VAR: 'from_base' });
    expect(json.services.layered.environment).toEqual({ MY_VAR: 'from_local' });
    expect(json.services.pinned.environment).toEqual({ DB_HOST: 'db-from-environment' });
  });

  it("008: ${VAR:?msg} and ${VAR?msg} fail with compose's message", () => {
    const g = { projectName: 'tsc-case-008' };
    const none = configError(caseDir('008'), g, {});
    expect(none.message).toMatch(
      /required variable (DB_PASSWORD is missing a value: database password must be set|DB_USER is missing a value|OPT_TOKEN is missing a value: token must be defined, even if empty)/,
    );
    const emptyUser = configError(caseDir('008'), g, {
      DB_PASSWORD: 'pw',
      DB_USER: '',
      OPT_TOKEN: 't',
    });
    expect(emptyUser.message).toContain('required variable DB_USER is missing a value');
    const { json } = config(caseDir('008'), g, {
      DB_PASSWORD: 'pw',
      DB_USER: 'admin',
      OPT_TOKEN: '',
    });
    expect(json.services.db.environment).toMatchObject({
      OPT_TOKEN: '',
      DB_PASSWORD: 'pw',
      DB_USER: 'admin',
    });
  });

  it('010: ports append, environment merges by key, volumes replace by target', () => {
    const dir = caseDir('010');
    const { json } = config(dir, {
      projectName: 'tsc-case-010',
      file: ['compose.yaml', 'compose.test.yaml'],
    });
    const s = json.services.server;
    expect(s.ports).toEqual([
      { mode: 'ingress', target: 1323, published: '1323', protocol: 'tcp' },
      { mode: 'ingress', target: 1323, published: '1324', protocol: 'tcp' },
    ]);
    expect(s.environment).toEqual({
      NAME: 'DEV',
      VALUE: '',
      KEEP: 'base-only',
      ADDED: 'from-override',
    });
    expect(s.volumes).toHaveLength(2);
    const byTarget = Object.fromEntries((s.volumes as Json[]).map((v) => [v.target, v]));
    expect(byTarget['/data']).toEqual({
      type: 'bind',
      source: join(dir, 'data-b'),
      target: '/data',
      bind: { create_host_path: true },
    });
    expect(byTarget['/logs']).toEqual({
      type: 'bind',
      source: join(dir, 'logs'),
      target: '/logs',
      bind: { create_host_path: true },
    });
  });

  it('012: extends from another directory resolves paths against the base file', () => {
    const base = caseDir('012');
    const { json } = config(join(base, 'custom'));
    expect(json.name).toBe('custom');
    const w = json.services.worker;
    expect(w.build).toMatchObject({ context: join(base, 'base/worker'), dockerfile: 'Dockerfile' });
    expect(w.environment).toEqual({ ROLE: 'from-base-dir', LOCAL: 'yes' });
    expect(w.volumes[0]).toMatchObject({
      type: 'bind',
      source: join(base, 'base/shared'),
      target: '/shared',
      read_only: true,
    });
    expect(w).not.toHaveProperty('extends');
  });

  it('015: compose.override.yaml is loaded only without -f / COMPOSE_FILE', () => {
    const dir = caseDir('015');
    const expectName = (j: Json) => expect(j.name).toBe('015-explicit-f-skips-override-file');
    const auto = config(dir).json;
    expectName(auto);
    expect(auto.services.test.environment).toEqual({ FROM_OVERRIDE: '1' });
    expect(auto.services.test.volumes[0]).toMatchObject({
      type: 'bind',
      source: '/tmp',
      target: '/from-dotenv',
    });
    for (const run of [
      config(dir, { file: ['compose.yaml'] }).json,
      config(dir, {}, { COMPOSE_FILE: 'compose.yaml' }).json,
    ]) {
      expectName(run);
      expect(run.services.test.environment ?? {}).toEqual({});
      expect(run.services.test.volumes[0].target).toBe('/from-dotenv');
    }
    const both = config(dir, { file: ['compose.yaml', 'compose.override.yaml'] }).json;
    expect(both.services.test.environment).toEqual({ FROM_OVERRIDE: '1' });
  });

  it('017: a host range to one container port stays a range; range to range expands', () => {
    const { json } = config(caseDir('017'), { projectName: 'tsc-case-017' });
    expect(json.services.web.ports).toEqual([
      { mode: 'ingress', target: 80, published: '18000-18010', protocol: 'tcp' },
    ]);
    expect(json.services.multi.ports).toEqual(
      [9000, 9001, 9002].map((t) => ({
        mode: 'ingress',
        target: t,
        published: String(t + 10000),
        protocol: 'tcp',
      })),
    );
  });

  it('020: volume option lists (ro,z / Z / rw,rprivate / nocopy) are each recognised', () => {
    const dir = caseDir('020');
    const { json } = config(dir, { projectName: 'tsc-case-020' });
    expect(json.services.app.volumes).toEqual([
      {
        type: 'bind',
        source: join(dir, 'conf'),
        target: '/conf',
        read_only: true,
        bind: { selinux: 'z', create_host_path: true },
      },
      {
        type: 'bind',
        source: join(dir, 'scratch'),
        target: '/scratch',
        bind: { selinux: 'Z', create_host_path: true },
      },
      {
        type: 'bind',
        source: join(dir, 'mirror'),
        target: '/mirror',
        bind: { propagation: 'rprivate', create_host_path: true },
      },
      { type: 'volume', source: 'dbdata', target: '/var/lib/db', volume: { nocopy: true } },
    ]);
  });

  it.each([
    ['www.example.com', 'wwwexamplecom'],
    ['Mixed.Case-Dir_Name', 'mixedcase-dir_name'],
    ['_under.score', 'underscore'],
  ])('039: directory %s gives project %s', (dirName, name) => {
    const { json } = config(caseDir('039', dirName));
    expect(json.name).toBe(name);
    expect(json.networks.default.name).toBe(`${name}_default`);
    expect(json.volumes.dbdata.name).toBe(`${name}_dbdata`);
    expect(json.services.web.labels['example.project']).toBe(name);
    expect(json.services.web.environment.COMPOSE_PROJECT_NAME).toBe(name);
  });

  it.each([['12018'], ['007agent']])('040: directory %s keeps its digits', (dirName) => {
    const { json } = config(caseDir('040', dirName));
    expect(json.name).toBe(dirName);
    expect(json.networks.default.name).toBe(`${dirName}_default`);
    expect(config(caseDir('040', dirName), { projectName: '12018' }).json.name).toBe('12018');
  });
});
