/**
 * `tscompose down`: stop and remove the project's containers and networks (docker compose down:
 * -v, --rmi, --remove-orphans, -t). Works without a compose file when `-p` names the project.
 */
import type { Command } from 'commander';

import { UsageError } from '../../base/errors.js';
import { reconcileDown } from '../../compose/orchestrator/index.js';
import type { GlobalOptions } from '../options.js';
import { checkServices, intFlag, openProjectObserved, orphanWarning, runPlan } from './common.js';

/** `down` flags. */
export interface DownFlags {
  readonly volumes?: boolean;
  readonly rmi?: string;
  readonly removeOrphans?: boolean;
  readonly timeout?: string;
}

/** Registers `down`. */
export function registerDown(program: Command, globals: () => GlobalOptions): void {
  program
    .command('down')
    .description('Stop and remove containers, networks')
    .argument('[service...]', 'services')
    .option(
      '-v, --volumes',
      'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers',
    )
    .option(
      '--rmi <type>',
      'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")',
    )
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds')
    .action(async (services: string[], o: DownFlags) => {
      process.exitCode = await runDown(globals(), o, services);
    });
}

/**
 * Runs `down`; resolves to the exit code. With services named, only their containers are stopped
 * and removed; networks, volumes and images stay (docker compose `down SERVICE...`).
 */
export async function runDown(
  g: GlobalOptions,
  o: DownFlags,
  services: readonly string[] = [],
): Promise<number> {
  if (o.rmi !== undefined && o.rmi !== 'all' && o.rmi !== 'local') {
    throw new UsageError(`invalid --rmi option ${JSON.stringify(o.rmi)}`, {
      hint: 'use --rmi local or --rmi all',
    });
  }
  // reconcileDown needs no image list (--rmi removes the images the containers name)
  const { ctx, observed: all } = await openProjectObserved(
    g,
    { optional: true, check: (c) => checkServices(c, services) },
    { images: false },
  );
  const observed =
    services.length === 0
      ? all
      : {
          ...all,
          containers: all.containers.filter((c) => services.includes(c.service)),
          networks: [],
          volumes: [],
        };
  const plan = reconcileDown(
    observed,
    {
      volumes: o.volumes === true,
      rmi: services.length === 0 ? o.rmi : undefined,
      removeOrphans: o.removeOrphans === true,
      timeoutS: intFlag('--timeout', o.timeout),
    },
    ctx.loaded?.project,
  );
  if (plan.orphans.length > 0) process.stderr.write(orphanWarning(plan.orphans));
  await runPlan(g, ctx.docker, plan);
  return 0;
}
