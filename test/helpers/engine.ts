/**
 * Shared setup for the tests that run our engine (integration and e2e): a temp data root seeded with
 * the busybox fixture image, the daemon as a child process (so it can be SIGKILLed) on a temp socket,
 * a dockerode client and the docker CLI pointed at it, and a teardown that removes networks it created.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import Docker from 'dockerode';

import { EngineNetworks } from '../../engine/containers/networking';
import { imageStoreRoot } from '../../engine/containers/index';
import { ImageStore } from '../../engine/images/store';
import {
  buildImage,
  busyboxRootfs,
  type BuildOptions,
  type FixtureEntry,
} from '../fixtures/images/build';

const run = promisify(execFile);

/** The docker CLI on this machine. */
export const DOCKER = '/usr/local/bin/docker';

/** A temp engine home. */
export interface EngineHome {
  readonly dir: string;
  readonly dataRoot: string;
  readonly socket: string;
  readonly pidFile: string;
}

/**
 * Makes the temp dirs and stores the fixture image as `busybox:1.36` and `busybox:latest`
 * (`options` go to {@link buildImage}: other layers, e.g. {@link fullBusyboxLayers}).
 */
export async function makeHome(options: BuildOptions = {}): Promise<EngineHome> {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-test-engine-'));
  const dataRoot = join(dir, 'data');
  const store = new ImageStore({ root: imageStoreRoot(dataRoot) });
  const image = await buildImage(options);
  for (const [, blob] of image.blobs) await store.content.put(blob);
  await store.content.put(image.manifest);
  await store.register(image.manifestDigest, ['busybox:1.36', 'busybox:latest']);
  return { dir, dataRoot, socket: join(dir, 'engine.sock'), pidFile: join(dir, 'engine.pid') };
}

/**
 * One layer like `busybox --install -s` in a chroot (what test/e2e/cli/dockerd.ts imports into
 * dockerd): the fixture rootfs plus a link for every applet at its install path.
 */
export function fullBusyboxLayers(): FixtureEntry[][] {
  const base = busyboxRootfs();
  const have = new Set(base.map((e) => e.name.replace(/\/$/, '')));
  const extra: FixtureEntry[] = [];
  for (const d of ['sbin', 'usr/sbin'])
    extra.push({ name: `${d}/`, type: 'directory', mode: 0o755 });
  const applets = execFileSync('/bin/busybox', ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a !== '' && a !== 'bin/busybox');
  for (const a of applets)
    if (!have.has(a)) extra.push({ name: a, type: 'symlink', linkname: '/bin/busybox' });
  return [[...base, ...extra]];
}

/** A running daemon child. */
export interface Engine {
  readonly proc: ChildProcess;
  readonly docker: Docker;
  /** Output of the daemon so far. */
  log(): string;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), and wait for the exit. */
  stop(): Promise<void>;
}

/** How to run the daemon: the script, Node flags before it, extra environment. */
export interface EngineLaunch {
  /** Default: test/helpers/engine-daemon.js (the TypeScript sources, compiled on the fly). */
  readonly entry?: string;
  readonly nodeFlags?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts the daemon child on `home` and waits (at most 60 s) until it answers `_ping`; its
 * stdout and stderr are kept for {@link Engine.log}.
 * @throws Error with the daemon's output when it exits or does not answer
 */
export async function startEngine(home: EngineHome, launch: EngineLaunch = {}): Promise<Engine> {
  const proc = spawn(
    process.execPath,
    [
      ...(launch.nodeFlags ?? []),
      launch.entry ?? join(__dirname, 'engine-daemon.js'),
      '--data-root',
      home.dataRoot,
      '--socket',
      home.socket,
      '--pidfile',
      home.pidFile,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...launch.env } },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const docker = new Docker({ socketPath: home.socket });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`engine exited: ${out}`);
    if (existsSync(home.socket)) {
      try {
        await docker.ping();
        break;
      } catch {
        // not yet
      }
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`engine did not answer: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return { proc, docker, log: () => out, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

/** Runs the docker CLI against the engine; rejects on a non-zero exit (error has stdout/stderr/code). */
export function dockerCli(
  home: EngineHome,
  ...args: string[]
): Promise<{ stdout: string; stderr: string }> {
  return run(DOCKER, args, {
    env: {
      ...process.env,
      DOCKER_HOST: `unix://${home.socket}`,
      DOCKER_CONFIG: join(home.dir, 'docker-config'),
    },
    timeout: 60_000,
  });
}

/** Removes every network the engine created (after the engine stopped) and its listeners. */
export async function removeNetworks(home: EngineHome): Promise<void> {
  if (!existsSync(join(home.dataRoot, 'network-state.json'))) return;
  const n = await EngineNetworks.open(home.dataRoot);
  try {
    for (const net of n.manager.list()) await n.manager.remove(net.Id);
    await n.persist();
  } finally {
    await n.close();
  }
}

/** Polls `fn` every 100 ms until it returns a value other than undefined (bounded by `ms`). */
export async function until<T>(fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Text of a file or ''. */
export function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Pids of tscompose shims (`tsc:[...]` processes) alive now. */
export function shimPids(): Set<number> {
  const out = new Set<number>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    const comm = readOr(`/proc/${p}/comm`).trim();
    if (comm.startsWith('tsc:[') || comm === 'tscompose-shim') out.add(Number(p));
  }
  return out;
}

/** Waits (bounded, 10 s) until every shim not in `before` has exited: shims end just after their container. */
export async function waitShimsGone(before: ReadonlySet<number>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if ([...shimPids()].every((p) => before.has(p))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
