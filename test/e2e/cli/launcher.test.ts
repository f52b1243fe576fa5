/**
 * The installed `tscompose` executable (dist/cli/tscompose.js, cli/tscompose.ts): it runs the
 * bundle made by cli/make-bundle.ts through V8's code cache, writes the cache when there is none or
 * V8 rejects it, and reuses an accepted one; a command's start loads neither ssh2 nor gRPC. Runs
 * a copy of the launcher and bundle in a temp dir under dist/ (so node_modules still resolves),
 * never the shared cache of dist/cli/. Needs `npm run build` (npm test does it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DIST_CLI = path.join(ROOT, 'dist', 'cli');

let dir = '';
let launcher = '';
let cache = '';

beforeAll(() => {
  for (const f of ['tscompose.js', 'tscompose.bundle.js'])
    if (!fs.existsSync(path.join(DIST_CLI, f)))
      throw new Error(`${f} missing in dist/cli: run npm run build first`);
  dir = fs.mkdtempSync(path.join(ROOT, 'dist', 'tsc-test-launcher-'));
  for (const f of ['tscompose.js', 'tscompose.bundle.js'])
    fs.copyFileSync(path.join(DIST_CLI, f), path.join(dir, f));
  launcher = path.join(dir, 'tscompose.js');
  cache = path.join(dir, 'tscompose.bundle.js.cache');
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const version = (): string =>
  execFileSync(process.execPath, [launcher, 'version', '--short'], { encoding: 'utf8' }).trim();

test('first run writes the code cache, later runs reuse it unchanged', () => {
  expect(fs.existsSync(cache)).toBe(false);
  const out = version();
  expect(out).toMatch(/^\d+\.\d+\.\d+$/);
  const first = fs.statSync(cache);
  expect(first.size).toBeGreaterThan(100_000);
  expect(version()).toBe(out);
  const second = fs.statSync(cache);
  // an accepted cache is not written again
  expect(second.mtimeMs).toBe(first.mtimeMs);
  expect(second.ino).toBe(first.ino);
});

test('a cache V8 rejects (corrupt) is replaced and the command still runs', () => {
  fs.writeFileSync(cache, Buffer.from('not a V8 code cache'));
  expect(version()).toMatch(/^\d+\.\d+\.\d+$/);
  expect(fs.statSync(cache).size).toBeGreaterThan(100_000);
});

test('a command start loads neither ssh2 nor gRPC (dockerode parts loaded on first use)', () => {
  const probe = path.join(dir, 'probe.js');
  // preloaded before the launcher; at exit it prints every module loaded from a file
  fs.writeFileSync(
    probe,
    `process.on('exit', () => { require('fs').writeSync(2, JSON.stringify(Object.keys(require.cache))); });\n`,
  );
  const r = spawnSync(process.execPath, ['--require', probe, launcher, '--help'], {
    encoding: 'utf8',
  });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('Usage:  tscompose');
  const loaded = JSON.parse(r.stderr) as string[];
  expect(loaded).toContain(launcher);
  expect(loaded.filter((f) => /[\\/](ssh2|@grpc|protobufjs)[\\/]/.test(f))).toEqual([]);
  // the bundle is compiled by the launcher, not loaded as ~400 separate modules
  expect(loaded.filter((f) => f.includes(`${path.sep}node_modules${path.sep}`))).toEqual([]);
});
