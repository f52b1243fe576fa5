/**
 * `tscompose run`: a one-off container for a service (docker compose run: -d, --rm, -e, --name,
 * --entrypoint, -T, --no-deps, -p, -v, -u, -w, -l, --service-ports). Brings up the service's
 * dependencies first; names the container `<project>-<service>-run-<12 hex>` with oneoff labels.
 */
import type * as Crypto from 'node:crypto';

import type { Command } from 'commander';
import type { ContainerCreateOptions } from 'dockerode';

import {
  CONTAINER_NUMBER_LABEL,
  ONEOFF_LABEL,
  SLUG_LABEL,
  checkExternalResources,
  observe,
  reconcileUp,
  selectServices,
  translateService,
  type Plan,
  type PlanNode,
} from '../../compose/orchestrator/index.js';
import { lazyModule } from '../../base/lazy.js';
import { collect, type GlobalOptions } from '../options.js';
import { checkServices, externalClient, openProject, runPlan, translateContext } from './common.js';
import { envEntries } from './exec.js';
import { pipeStdio, stdinHasInput } from './stdio.js';

/** node:crypto on first use (the one-off container's slug): other commands never load it. */
const crypto = lazyModule<typeof Crypto>('node:crypto');

/** `run` flags. */
export interface RunFlags {
  readonly detach?: boolean;
  readonly rm?: boolean;
  readonly env?: string[];
  readonly name?: string;
  readonly entrypoint?: string;
  readonly tty?: boolean;
  readonly deps?: boolean;
  readonly publish?: string[];
  readonly volume?: string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly label?: string[];
  readonly servicePorts?: boolean;
}

/** Registers `run`. */
export function registerRun(program: Command, globals: () => GlobalOptions): void {
  program
    .command('run')
    .description('Run a one-off command on a service')
    .argument('<service>', 'service')
    .argument('[command...]', 'command and arguments')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-e, --env <KEY=VAL>', 'Set environment variables', collect)
    .option('--name <name>', 'Assign a name to the container')
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('--no-deps', "Don't start linked services")
    .option('-p, --publish <port>', "Publish a container's port(s) to the host", collect)
    .option('-v, --volume <volume>', 'Bind mount a volume', collect)
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('-l, --label <KEY=VAL>', 'Add or override a label', collect)
    .option(
      '-P, --service-ports',
      "Run command with all service's ports enabled and mapped to the host",
    )
    .passThroughOptions()
    .action(async (service: string, command: string[], o: RunFlags) => {
      process.exitCode = await runRun(globals(), service, command, o);
    });
}

/** The plan without the nodes of `service`'s own containers (run creates its own). */
export function withoutService(plan: Plan, service: string): Plan {
  const dropped = new Map<number, readonly number[]>();
  const kept: PlanNode[] = [];
  const resolveAfter = (ids: readonly number[]): number[] =>
    ids.flatMap((id) => (dropped.has(id) ? resolveAfter(dropped.get(id) ?? []) : [id]));
  for (const n of plan.nodes) {
    const op = n.op;
    const mine = 'container' in op && op.container.service === service;
    if (mine) dropped.set(n.id, n.after);
    else kept.push({ ...n, after: [...new Set(resolveAfter(n.after))] });
  }
  return { nodes: kept, orphans: plan.orphans };
}

/** `-p 8080:80`, `127.0.0.1:8080:80/udp`, `80` -> [container port key, host binding]. */
export function parsePublish(spec: string): [string, { HostIp?: string; HostPort?: string }] {
  const [addr, proto = 'tcp'] = spec.split('/');
  const parts = (addr ?? '').split(':');
  const target = parts.pop() ?? '';
  const hostPort = parts.pop();
  const hostIp = parts.join(':');
  return [
    `${target}/${proto}`,
    {
      ...(hostIp !== '' ? { HostIp: hostIp } : {}),
      ...(hostPort !== undefined ? { HostPort: hostPort } : {}),
    },
  ];
}

/** Applies the run flags to the service's create body. */
export function oneOffBody(
  body: ContainerCreateOptions,
  name: string,
  slug: string,
  command: readonly string[],
  o: RunFlags,
  tty: boolean,
  stdin: boolean,
): ContainerCreateOptions {
  const labels: Record<string, string> = {
    ...(body.Labels ?? {}),
    [ONEOFF_LABEL]: 'True',
    [SLUG_LABEL]: slug,
  };
  delete labels[CONTAINER_NUMBER_LABEL];
  for (const l of o.label ?? []) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const host = { ...(body.HostConfig ?? {}) };
  if (o.servicePorts !== true) delete host.PortBindings;
  const exposed = { ...(body.ExposedPorts ?? {}) };
  if ((o.publish ?? []).length > 0) {
    const bindings: Record<string, { HostIp?: string; HostPort?: string }[]> = {
      ...((host.PortBindings ?? {}) as Record<string, { HostIp?: string; HostPort?: string }[]>),
    };
    for (const p of o.publish ?? []) {
      const [key, b] = parsePublish(p);
      bindings[key] = [...(bindings[key] ?? []), b];
      exposed[key] = {};
    }
    host.PortBindings = bindings;
  }
  if ((o.volume ?? []).length > 0) host.Binds = [...(host.Binds ?? []), ...(o.volume ?? [])];
  host.RestartPolicy = { Name: 'no' };
  host.AutoRemove = o.rm === true && o.detach === true;
  const out: ContainerCreateOptions = {
    ...body,
    name,
    Labels: labels,
    HostConfig: host,
    ExposedPorts: exposed,
    Tty: tty,
    OpenStdin: stdin,
    AttachStdin: stdin,
    StdinOnce: stdin,
    AttachStdout: o.detach !== true,
    AttachStderr: o.detach !== true,
    Env: [...(body.Env ?? []), ...envEntries(o.env)],
  };
  if (command.length > 0) out.Cmd = [...command];
  if (o.entrypoint !== undefined) {
    out.Entrypoint = o.entrypoint === '' ? [''] : o.entrypoint.split(/\s+/).filter((x) => x !== '');
    if (command.length === 0) delete out.Cmd;
  }
  if (o.user !== undefined) out.User = o.user;
  if (o.workdir !== undefined) out.WorkingDir = o.workdir;
  return out;
}

/** Runs `run`; resolves to the one-off container's exit code (0 with -d). */
export async function runRun(
  g: GlobalOptions,
  service: string,
  command: readonly string[],
  o: RunFlags,
): Promise<number> {
  const ctx = await openProject(g, { start: true });
  const loaded = ctx.loaded;
  if (!loaded) return 1;
  checkServices(ctx, [service]);
  const translate = translateContext(loaded);
  const observed = await observe(ctx.docker, ctx.name);
  const plan = reconcileUp(loaded.project, observed, {
    services: [service],
    noDeps: o.deps === false,
    translate,
  });
  await checkExternalResources(
    externalClient(ctx.docker),
    loaded.project,
    selectServices(loaded.project, { services: [service], noDeps: o.deps === false }),
  );
  await runPlan(g, ctx.docker, withoutService({ nodes: plan.nodes, orphans: [] }, service));

  const slug = crypto().randomBytes(32).toString('hex');
  const name = o.name ?? `${ctx.name}-${service}-run-${slug.slice(0, 12)}`;
  const spec = translateService({ project: loaded.project, ...translate }, service, 1);
  const detach = o.detach === true;
  const tty =
    !detach && o.tty !== false && process.stdin.isTTY === true && process.stdout.isTTY === true;
  const stdin = !detach && stdinHasInput();
  const body = oneOffBody(spec.body, name, slug, command, o, tty, stdin);
  const container = await ctx.docker.createContainer(body);
  for (const c of spec.connect) {
    await ctx.docker
      .getNetwork(c.network)
      .connect({ Container: container.id, EndpointConfig: c.endpoint });
  }
  if (detach) {
    await container.start();
    process.stdout.write(`${name}\n`);
    return 0;
  }
  const stream = await container.attach({
    stream: true,
    stdout: true,
    stderr: true,
    stdin,
    hijack: stdin,
  });
  const output = pipeStdio(stream, { tty, stdin });
  const waited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode?: number }>;
  await container.start();
  const { StatusCode } = await waited;
  await Promise.race([output, new Promise((r) => setTimeout(r, 2000))]);
  if (o.rm === true) await container.remove({ force: true, v: true });
  return StatusCode ?? 0;
}
