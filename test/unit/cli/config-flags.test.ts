/**
 * `tscompose config` flags, as docker compose has them: listing flags, --hash, --no-interpolate,
 * --no-normalize, --format json, -q, -o.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runConfig } from '../../../cli/commands/config';
import { serviceConfigHash } from '../../../compose/hash';
import { loadProject } from '../../../compose/index';

const COMPOSE = `services:
  web:
    image: nginx:\${TAG:-1.25}
    command: echo $$HOME
    profiles: [debug]
  db:
    image: postgres:16
    volumes: [data:/var/lib/postgresql/data]
  worker:
    build: ./worker
networks:
  back: {}
volumes:
  data: {}
`;

describe('config flags', () => {
  let dir: string;
  const saved = { cwd: process.cwd(), env: process.env };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsc-test-config-'));
    writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
    process.chdir(dir);
    process.env = { HOME: '/root', PATH: saved.env.PATH };
  });
  afterAll(() => {
    process.chdir(saved.cwd);
    process.env = saved.env;
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists services (active profiles only), volumes, networks, profiles and images', () => {
    expect(runConfig({}, { services: true })).toBe('db\nworker\n');
    expect(runConfig({ profile: ['debug'] }, { services: true })).toBe('db\nweb\nworker\n');
    expect(runConfig({}, { volumes: true })).toBe('data\n');
    expect(runConfig({}, { networks: true })).toBe('back\ndefault\n');
    expect(runConfig({}, { profiles: true })).toBe('debug\n');
    expect(runConfig({}, { images: true })).toBe(`postgres:16\n${dirName()}-worker\n`);
  });

  it('prints the config hash of one service or all', () => {
    const { project } = loadProject({ cwd: dir, environment: { HOME: '/root' } });
    const db = project.services.db;
    expect(db).toBeDefined();
    expect(runConfig({}, { hash: 'db' })).toBe(`db ${serviceConfigHash(db!)}\n`);
    expect(
      runConfig({}, { hash: '*' })
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[0]),
    ).toEqual(['db', 'worker']);
  });

  it('keeps ${...} as written with --no-interpolate, and $$ re-escaped otherwise', () => {
    expect(runConfig({ profile: ['debug'] }, { interpolate: false })).toContain(
      'image: nginx:${TAG:-1.25}',
    );
    const out = runConfig({ profile: ['debug'] }, {});
    expect(out).toContain('image: nginx:1.25');
    expect(out).toContain('- $$HOME');
  });

  it('adds no default network or resource names with --no-normalize', () => {
    const json = JSON.parse(runConfig({}, { normalize: false, format: 'json' })) as Record<
      string,
      any
    >;
    expect(json.services.db.networks).toBeUndefined();
    expect(json.volumes.data.name).toBeUndefined();
    const normal = JSON.parse(runConfig({}, { format: 'json' })) as Record<string, any>;
    expect(normal.services.db.networks).toEqual({ default: null });
    expect(normal.volumes.data.name).toBe(`${dirName()}_data`);
  });

  it('prints nothing with -q', () => {
    expect(runConfig({}, { quiet: true })).toBe('');
  });

  function dirName(): string {
    return dir
      .split('/')
      .pop()!
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '');
  }

  it('is the same text written with -o', () => {
    const text = runConfig({}, {});
    writeFileSync(join(dir, 'out.yaml'), text);
    expect(readFileSync(join(dir, 'out.yaml'), 'utf8')).toMatch(/^name: /);
  });
});
