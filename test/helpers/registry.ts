/**
 * Starts Debian's `docker-registry` (the distribution server) on a free loopback port with its own
 * config and storage under a temp dir; optional htpasswd (Basic) or token auth. Stops it by pid
 * and removes the dir. Test helper only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureDebPackages } from './host.js';

/** Auth the registry enforces. */
export type RegistryAuth =
  | { readonly kind: 'htpasswd'; readonly username: string; readonly password: string }
  | {
      readonly kind: 'token';
      readonly realm: string;
      readonly service: string;
      readonly issuer: string;
      /** PEM certificate(s) that sign tokens. */
      readonly rootCertPem: string;
    };

/** A running registry. */
export interface TestRegistry {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** `127.0.0.1:<port>` (the reference domain). */
  readonly host: string;
  /** The filesystem storage root (`<dir>/data`), for corrupting blobs in tests. */
  readonly storageDir: string;
  /** Kills the process (by pid) and removes its dir. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (never 2024). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    if (port !== 2024) return port;
  }
}

async function waitReady(url: string, proc: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) {
      throw new Error(`docker-registry exited ${proc.exitCode}: ${fs.readFileSync(log, 'utf8')}`);
    }
    try {
      const res = await fetch(`${url}/v2/`);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer: ${fs.readFileSync(log, 'utf8')}`);
}

/** Starts a registry (installs `docker-registry` and, for htpasswd, `apache2-utils`). */
export async function startRegistry(options: { auth?: RegistryAuth } = {}): Promise<TestRegistry> {
  ensureDebPackages([
    'docker-registry',
    ...(options.auth?.kind === 'htpasswd' ? ['apache2-utils'] : []),
  ]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-test-registry-'));
  const port = await freePort();
  const storageDir = path.join(dir, 'data');
  fs.mkdirSync(storageDir);
  let auth = '';
  if (options.auth?.kind === 'htpasswd') {
    const line = execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password], {
      encoding: 'utf8',
    });
    fs.writeFileSync(path.join(dir, 'htpasswd'), line.trim() + '\n');
    auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${path.join(dir, 'htpasswd')}\n`;
  } else if (options.auth?.kind === 'token') {
    fs.writeFileSync(path.join(dir, 'root.pem'), options.auth.rootCertPem);
    auth =
      `auth:\n  token:\n    realm: ${options.auth.realm}\n    service: ${options.auth.service}\n` +
      `    issuer: ${options.auth.issuer}\n    rootcertbundle: ${path.join(dir, 'root.pem')}\n`;
  }
  const config =
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n` +
    `storage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true\n` +
    `http:\n  addr: 127.0.0.1:${port}\n${auth}`;
  fs.writeFileSync(path.join(dir, 'config.yml'), config);
  const log = path.join(dir, 'registry.log');
  const out = fs.openSync(log, 'a');
  const proc = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], {
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    const running = (): boolean => proc.exitCode === null && proc.signalCode === null;
    if (running() && proc.pid !== undefined) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
      clearTimeout(timer);
      if (running()) {
        process.kill(proc.pid, 'SIGKILL');
        await exited;
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, proc, log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, host: `127.0.0.1:${port}`, storageDir, stop };
}

/** Path of a blob's data file in the registry's filesystem storage. */
export function registryBlobPath(storageDir: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
