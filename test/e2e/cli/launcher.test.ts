/**
 * The installed `tscompose` executable (dist/cli/tscompose.js, cli/tscompose.ts): it runs the
 * bundle made by cli/make-bundle.ts through V8's code cache, writes the cache when there is none or
 * V8 rejects it, and reuses an accepted one; a command's start loads neither ssh2 nor gRPC. Runs
 * a copy of the launcher and bundle in a temp dir under dist/ (so node_modules still resolves),
 * never the shared cache of dist/cli/. Needs `npm run build` (npm test does it).
 *
 * Its `#!` line starts node without NODE_EXTRA_CA_CERTS (read before any JavaScript runs) and the
 * launcher puts the value back: checked with a stand-in bundle that prints the environment it
 * sees, beside a copy of the launcher.
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

describe('NODE_EXTRA_CA_CERTS: node does not load it, the CLI still sees it', () => {
  let fakeDir = '';
  let fake = '';
  beforeAll(() => {
    fakeDir = fs.mkdtempSync(path.join(ROOT, 'dist', 'tsc-test-launcher-env-'));
    fake = path.join(fakeDir, 'tscompose.js');
    fs.copyFileSync(path.join(DIST_CLI, 'tscompose.js'), fake);
    fs.chmodSync(fake, 0o755);
    // stands in for the bundle: main() prints what the CLI would see
    fs.writeFileSync(
      path.join(fakeDir, 'tscompose.bundle.js'),
      `exports.main = async (argv) => { process.stdout.write(JSON.stringify({ argv, ` +
        `extra: process.env.NODE_EXTRA_CA_CERTS ?? null, ` +
        `saved: process.env.TSCOMPOSE_SAVED_NODE_EXTRA_CA_CERTS ?? null })); return 0; };\n`,
    );
  });
  afterAll(() => {
    if (fakeDir) fs.rmSync(fakeDir, { recursive: true, force: true });
  });

  const run = (
    argv: string[],
    extra: string | undefined,
  ): { out: { argv: string[]; extra: string | null; saved: string | null }; stderr: string } => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['NODE_EXTRA_CA_CERTS'];
    delete env['TSCOMPOSE_SAVED_NODE_EXTRA_CA_CERTS'];
    if (extra !== undefined) env['NODE_EXTRA_CA_CERTS'] = extra;
    const [exe, ...args] = argv;
    const r = spawnSync(exe ?? '', args, { encoding: 'utf8', env });
    expect(r.status).toBe(0);
    return { out: JSON.parse(r.stdout) as never, stderr: r.stderr };
  };
  const missing = '/nonexistent/tsc test $HOME\\ca.pem';

  test('run directly (node): node warns that it could not load the file', () => {
    const r = run([process.execPath, fake, 'ps'], missing);
    expect(r.stderr).toContain('Ignoring extra certs from');
    expect(r.out).toEqual({ argv: ['ps'], extra: missing, saved: null });
  });

  test('run as the command: node never reads it, the CLI gets it back verbatim', () => {
    const r = run([fake, 'ps', '-a'], missing);
    expect(r.stderr).not.toContain('Ignoring extra certs');
    expect(r.out).toEqual({ argv: ['ps', '-a'], extra: missing, saved: null });
  });

  test("node's own options in the command's arguments stay the CLI's (--env-file)", () => {
    // Node 20 acts on --env-file even after the script; the #! line's `--` stops that
    const args = ['--env-file', 'missing.env', '--env-file=other.env', 'config'];
    expect(run([fake, ...args], undefined).out.argv).toEqual(args);
  });

  test('unset stays unset', () => {
    expect(run([fake, 'version'], undefined).out).toEqual({
      argv: ['version'],
      extra: null,
      saved: null,
    });
  });
});
