/**
 * `tscompose exec`: run a command in a running service container (docker compose exec: -d, -T,
 * -u, -w, -e, --index, --privileged; a pty when attached to a terminal). Exit code = the command's.
 */
import type { Command } from 'commander';

import { TscError } from '../../base/errors.js';
import { collect, type GlobalOptions } from '../options.js';
import { checkServices, containerName, intFlag, openProject, serviceContainer } from './common.js';
import { pipeStdio, stdinHasInput } from './stdio.js';

/** `exec` flags. */
export interface ExecFlags {
  readonly detach?: boolean;
  readonly T?: boolean;
  readonly tty?: boolean;
  readonly user?: string;
  readonly workdir?: string;
  readonly env?: string[];
  readonly index?: string;
  readonly privileged?: boolean;
}

/** Registers `exec`. */
export function registerExec(program: Command, globals: () => GlobalOptions): void {
  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<service>', 'service')
    .argument('<command...>', 'command and arguments')
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option(
      '-T, --no-tty',
      'Disable pseudo-TTY allocation. By default `docker compose exec` allocates a TTY.',
    )
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .option('--privileged', 'Give extended privileges to the process')
    .passThroughOptions()
    .action(async (service: string, command: string[], o: ExecFlags) => {
      process.exitCode = await runExec(globals(), service, command, o);
    });
}

/** Environment entries for `-e`: `KEY=VAL` as is, bare `KEY` from this process's environment. */
export function envEntries(
  flags: readonly string[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const out: string[] = [];
  for (const e of flags ?? []) {
    if (e.includes('=')) out.push(e);
    else if (env[e] !== undefined) out.push(`${e}=${env[e]}`);
  }
  return out;
}

/** Runs `exec`; resolves to the command's exit code. */
export async function runExec(
  g: GlobalOptions,
  service: string,
  command: readonly string[],
  o: ExecFlags,
): Promise<number> {
  const ctx = await openProject(g);
  checkServices(ctx, [service]);
  const c = await serviceContainer(ctx, service, intFlag('--index', o.index) ?? 1);
  if (c.State !== 'running') {
    throw new TscError(
      'TSC_ENGINE_STATE',
      `service "${service}" is not running (container ${containerName(c)} is ${c.State})`,
    );
  }
  const detach = o.detach === true;
  const tty =
    !detach && o.tty !== false && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const stdin = !detach && stdinHasInput();
  const exec = await ctx.docker.getContainer(c.Id).exec({
    Cmd: [...command],
    AttachStdin: stdin,
    AttachStdout: !detach,
    AttachStderr: !detach,
    Tty: tty,
    Env: envEntries(o.env),
    Privileged: o.privileged === true,
    ...(o.user !== undefined ? { User: o.user } : {}),
    ...(o.workdir !== undefined ? { WorkingDir: o.workdir } : {}),
  });
  if (detach) {
    await exec.start({ Detach: true });
    return 0;
  }
  const stream = await exec.start({ hijack: true, stdin, Tty: tty });
  await pipeStdio(stream, { tty, stdin });
  const info = await exec.inspect();
  return info.ExitCode ?? 0;
}
