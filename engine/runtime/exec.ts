/**
 * Runs a process inside a running container (docker exec): the shim in exec mode joins every
 * namespace of the init and its cgroups, then forks the process with the container's (or the
 * given) user, env and cwd, on pipes or a pty. Never changes the container itself.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeLaunchSpec } from '../../native/index.js';
import { hostCapabilities, type LaunchedContainer } from './launch.js';
import { MSG, spawnShim } from './shim-client.js';
import { toSetupError } from './setup-error.js';
import { buildExecSpec } from './spec.js';
import { resolveUser } from './user.js';

/** Options of an exec (Docker `ExecConfig`). */
export interface ExecOptions {
  readonly argv: readonly string[];
  /** Added to the container's env (later wins). */
  readonly env?: readonly string[] | undefined;
  /** Docker user string, resolved in the container's rootfs; default the container's user. */
  readonly user?: string | undefined;
  /** Default the container's working dir. */
  readonly workingDir?: string | undefined;
  /** Allocate a pty inside the container; stdout carries both streams then. */
  readonly tty?: boolean | undefined;
  /** All capabilities (`docker exec --privileged`). */
  readonly privileged?: boolean | undefined;
  /** cgroup.procs files to join; default: every cgroup the init is in ({@link cgroupProcsOf}). */
  readonly cgroupProcs?: readonly string[] | undefined;
}

/** A started exec. */
export interface ExecProcess {
  /** The exec shim; its stdin/stdout/stderr are the process's. */
  readonly child: ChildProcess;
  /** Resolves once the process has exec'd; rejects with SetupError (126/127) otherwise. */
  readonly started: Promise<void>;
  /** The process's exit code (128+signal when killed). */
  readonly exitCode: Promise<number>;
}

/**
 * The cgroup.procs files of every cgroup `pid` is in, from /proc/<pid>/cgroup (host view), so an
 * exec lands where the init is (runc exec does the same). Missing hierarchies are skipped.
 */
export function cgroupProcsOf(pid: number, root = '/sys/fs/cgroup'): string[] {
  const out: string[] = [];
  const unified = existsSync(join(root, 'cgroup.controllers')) ? root : join(root, 'unified');
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const ctrls = m[1] ?? '';
    const path = m[2] ?? '/';
    const dirs =
      ctrls === ''
        ? [unified]
        : [join(root, ctrls.replace(/^name=/, '')), ...ctrls.split(',').map((c) => join(root, c))];
    const dir = dirs.find((d) => existsSync(join(d, path, 'cgroup.procs')));
    if (dir) out.push(join(dir, path, 'cgroup.procs'));
  }
  return [...new Set(out)].sort();
}

/** Starts an exec; stdio of the returned child are pipes. */
export function startExec(c: LaunchedContainer, opts: ExecOptions): ExecProcess {
  const user = opts.user !== undefined ? resolveUser(c.spec.rootfs, opts.user) : undefined;
  const spec = buildExecSpec(
    c.spec,
    c.initPid,
    {
      argv: opts.argv,
      env: opts.env,
      user,
      workingDir: opts.workingDir,
      tty: opts.tty,
      privileged: opts.privileged,
    },
    opts.cgroupProcs ?? cgroupProcsOf(c.initPid),
    hostCapabilities(),
  );
  const shim = spawnShim('exec', encodeLaunchSpec(spec), c.id, ['pipe', 'pipe', 'pipe']);
  const started = (async (): Promise<void> => {
    const m = await shim.channel.expect(MSG.execOk, MSG.error);
    shim.channel.close();
    if (m.type === MSG.error) throw toSetupError(spec, m);
  })();
  return { child: shim.child, started, exitCode: shim.exited };
}

/** Result of {@link exec}. */
export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs an exec to completion, feeding `input` to stdin, and collects its output.
 * @throws SetupError with exitCode 126/127 when the process could not be started
 */
export async function exec(
  c: LaunchedContainer,
  opts: ExecOptions & { readonly input?: string | undefined },
): Promise<ExecResult> {
  const p = startExec(c, opts);
  let stdout = '';
  let stderr = '';
  p.child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  p.child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // a process that exits without reading its stdin closes the pipe: EPIPE is not a failure
  p.child.stdin?.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') p.child.emit('error', e);
  });
  if (opts.input !== undefined && opts.input !== '') p.child.stdin?.end(opts.input);
  else p.child.stdin?.end();
  const [, exitCode] = await Promise.all([p.started, p.exitCode]);
  return { exitCode, stdout, stderr };
}
