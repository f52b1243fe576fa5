/**
 * The daemons the CLI e2e scenarios run against, behind one shape: a private dockerd
 * (test/e2e/cli/dockerd.ts) and our engine as a child on a temp data root and socket
 * (test/helpers/engine.ts). Each stops by pid and removes everything it created.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmdirSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

import {
  DOCKER,
  fullBusyboxLayers,
  makeHome,
  removeNetworks,
  shimPids,
  startEngine,
  waitShimsGone,
} from '../../helpers/engine';
import { startDockerd, stopDockerd } from './dockerd';

/** A running daemon the scenarios drive with tscompose and the docker CLI. */
export interface Backend {
  /** `dockerd` or `engine`. */
  readonly name: string;
  /** `unix://<socket>` for DOCKER_HOST / ENGINE_HOST. */
  readonly host: string;
  /** The docker CLI binary the cases get as `$DOCKER`. */
  readonly dockerBin: string;
  /** Runs the docker CLI against this daemon; returns stdout, throws on a non-zero exit. */
  docker(args: readonly string[], input?: Buffer): string;
  /** Removes every container, stops the daemon, removes its networks and directories. */
  stop(): Promise<void>;
}

/** How to start one kind of backend, and the Debian packages it needs. */
export interface BackendKind {
  readonly name: string;
  readonly packages: readonly string[];
  start(): Promise<Backend>;
}

/** The private dockerd with busybox:1.36 imported (docker.io, its own data root and socket). */
export async function startDockerdBackend(): Promise<Backend> {
  const d = await startDockerd();
  return {
    name: 'dockerd',
    host: d.host,
    dockerBin: 'docker',
    docker: d.docker,
    stop: () => stopDockerd(d),
  };
}

const ENGINE_LOCK = '/tmp/tsc-test-engine.lock';

/** True while `pid` is alive. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One engine at a time on this host (they share the TSCOMPOSE iptables chains): a lock directory
 * holding the owner's pid, taken over when that process is gone.
 */
async function lockEngine(): Promise<void> {
  for (;;) {
    try {
      mkdirSync(ENGINE_LOCK);
      writeFileSync(`${ENGINE_LOCK}/pid`, String(process.pid));
      return;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(`${ENGINE_LOCK}/pid`, 'utf8'));
      } catch {
        // being created or removed right now
      }
      if (owner > 0 && !alive(owner)) rmSync(ENGINE_LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/**
 * Our engine (engine/daemon.ts + containers plugin) as a child on a temp data root and socket,
 * with a full busybox (every applet linked, like the dockerd import) stored as busybox:1.36.
 */
export async function startEngineBackend(): Promise<Backend> {
  await lockEngine();
  const shimsBefore = shimPids();
  const home = await makeHome({ layers: fullBusyboxLayers() });
  let engine;
  try {
    engine = await startEngine(home);
  } catch (e) {
    await removeNetworks(home);
    rmSync(home.dir, { recursive: true, force: true });
    rmSync(ENGINE_LOCK, { recursive: true, force: true });
    throw e;
  }
  const started = engine;
  const host = `unix://${home.socket}`;
  const docker = (args: readonly string[], input?: Buffer): string =>
    execFileSync(DOCKER, [...args], {
      env: { ...process.env, DOCKER_HOST: host, DOCKER_CONFIG: `${home.dir}/docker-config` },
      encoding: 'utf8',
      ...(input ? { input } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  return {
    name: 'engine',
    host,
    dockerBin: DOCKER,
    docker,
    stop: async () => {
      try {
        const all = await started.docker.listContainers({ all: true }).catch(() => []);
        for (const c of all)
          await started.docker
            .getContainer(c.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined);
      } finally {
        // the engine stops even when a removal failed, before its home goes
        await started.stop();
        await waitShimsGone(shimsBefore);
        await removeNetworks(home);
        rmSync(home.dir, { recursive: true, force: true });
        try {
          rmSync(`${ENGINE_LOCK}/pid`, { force: true });
          rmdirSync(ENGINE_LOCK);
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Both backends, for `describe.each`. */
export const BACKENDS: readonly BackendKind[] = [
  { name: 'dockerd', packages: ['docker.io', 'busybox-static'], start: startDockerdBackend },
  { name: 'engine', packages: ['busybox-static', 'tini'], start: startEngineBackend },
];

/** What an engine may change on the host and must give back: ip_forward and our iptables chains. */
export interface HostState {
  readonly ipForward: string;
  readonly chains: readonly string[];
}

/** ip_forward and the TSCOMPOSE / DOCKER chains of the filter and nat tables, now. */
export function hostState(): HostState {
  const chains: string[] = [];
  for (const table of ['filter', 'nat']) {
    let rules: string;
    try {
      rules = execFileSync('iptables', ['-t', table, '-S'], { encoding: 'utf8' });
    } catch {
      continue;
    }
    for (const l of rules.split('\n'))
      if (l.startsWith('-N ') && /TSCOMPOSE|DOCKER/.test(l)) chains.push(`${table} ${l.slice(3)}`);
  }
  return {
    ipForward: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
    chains: chains.sort(),
  };
}
