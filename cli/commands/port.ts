/**
 * `tscompose port`: the public address of a service container's port (docker compose port:
 * --index, --protocol). Returns the text to print.
 */
import type { Command } from 'commander';
import type { ContainerInspectInfo } from 'dockerode';

import { TscError, UsageError } from '../../base/errors.js';
import type { GlobalOptions } from '../options.js';
import { checkServices, containerName, intFlag, openProject, serviceContainer } from './common.js';

/** `port` flags. */
export interface PortFlags {
  readonly index?: string;
  readonly protocol?: string;
}

/** Registers `port`. */
export function registerPort(program: Command, globals: () => GlobalOptions): void {
  program
    .command('port')
    .description('Print the public port for a port binding')
    .argument('<service>', 'service')
    .argument('<private_port>', 'container port')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .action(async (service: string, port: string, o: PortFlags) => {
      process.stdout.write(await runPort(globals(), service, port, o));
    });
}

/**
 * The `HOST_IP:HOST_PORT` line for `port/proto` from an inspect's `NetworkSettings.Ports`
 * (the first binding, like docker compose), or undefined when it is not published.
 */
export function publishedAddress(
  ports: ContainerInspectInfo['NetworkSettings']['Ports'] | undefined,
  port: number,
  proto: string,
): string | undefined {
  const b = ports?.[`${port}/${proto}`]?.[0];
  if (!b) return undefined;
  return `${b.HostIp === '' ? '0.0.0.0' : b.HostIp}:${b.HostPort}`;
}

/** Computes `port`'s output. */
export async function runPort(
  g: GlobalOptions,
  service: string,
  port: string,
  o: PortFlags,
): Promise<string> {
  const n = Number(port);
  if (!Number.isInteger(n) || n <= 0 || n > 65535)
    throw new UsageError(`invalid port ${JSON.stringify(port)}`);
  const proto = o.protocol ?? 'tcp';
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp')
    throw new UsageError(`invalid protocol ${JSON.stringify(proto)}`);
  const ctx = await openProject(g);
  checkServices(ctx, [service]);
  const c = await serviceContainer(ctx, service, intFlag('--index', o.index) ?? 1);
  const info = await ctx.docker.getContainer(c.Id).inspect();
  const addr = publishedAddress(info.NetworkSettings.Ports, n, proto);
  if (addr === undefined) {
    throw new TscError(
      'TSC_ENGINE_NOT_FOUND',
      `no port ${n}/${proto} for container ${containerName(c)}: not published`,
    );
  }
  return `${addr}\n`;
}
