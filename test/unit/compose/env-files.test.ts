/**
 * loadProject reports the env files it read (LoadedProject.envFiles), which `up` and `run` put in
 * the `com.docker.compose.project.environment_file` label: `--env-file`, else
 * `COMPOSE_ENV_FILES`, else the project directory's `.env` when it exists. Temp dir per test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadProject } from '../../../compose/index.js';

let dir = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsc-test-env-files-'));
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox:${TAG}\n');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const load = (environment: Record<string, string>, envFiles?: string[]) =>
  loadProject({
    cwd: dir,
    files: [join(dir, 'compose.yaml')],
    environment,
    ...(envFiles ? { envFiles } : {}),
  });

test('the project directory .env, when it exists', () => {
  writeFileSync(join(dir, '.env'), 'TAG=1.36\n');
  const l = load({});
  expect(l.envFiles).toEqual([join(dir, '.env')]);
  expect(l.project.services.web?.image).toBe('busybox:1.36');
});

test('no .env: no env file', () => {
  expect(load({ TAG: 'x' }).envFiles).toEqual([]);
});

test('COMPOSE_ENV_FILES (comma-separated, relative to the project directory) replaces .env', () => {
  writeFileSync(join(dir, '.env'), 'TAG=dotenv\n');
  writeFileSync(join(dir, 'a.env'), 'TAG=a\n');
  writeFileSync(join(dir, 'b.env'), 'TAG=b\n');
  const l = load({ COMPOSE_ENV_FILES: 'a.env,b.env' });
  expect(l.envFiles).toEqual([join(dir, 'a.env'), join(dir, 'b.env')]);
  expect(l.project.services.web?.image).toBe('busybox:b');
});

test('--env-file wins over COMPOSE_ENV_FILES', () => {
  writeFileSync(join(dir, 'a.env'), 'TAG=a\n');
  writeFileSync(join(dir, 'c.env'), 'TAG=c\n');
  const l = load({ COMPOSE_ENV_FILES: 'a.env' }, [join(dir, 'c.env')]);
  expect(l.envFiles).toEqual([join(dir, 'c.env')]);
  expect(l.project.services.web?.image).toBe('busybox:c');
});
