/**
 * `tscompose top`: the processes of each running service container (docker compose top):
 * the container name, then a table of `GET /containers/{id}/top`. Returns the text.
 */
import type { Command } from 'commander';

import type { GlobalOptions } from '../options.js';
import { renderTable } from '../render/format.js';
import { checkServices, containerName, openProject, projectContainers } from './common.js';

/** Registers `top`. */
export function registerTop(program: Command, globals: () => GlobalOptions): void {
  program
    .command('top')
    .description('Display the running processes')
    .argument('[service...]', 'services')
    .action(async (services: string[]) => {
      process.stdout.write(await runTop(globals(), services));
    });
}

/** One container's block: its name, then the process table, then a blank line. */
export function renderTop(name: string, top: { Titles: string[]; Processes: string[][] }): string {
  return `${name}\n${renderTable(top.Titles, top.Processes)}\n`;
}

/** Computes `top`'s output. */
export async function runTop(g: GlobalOptions, services: readonly string[]): Promise<string> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  const list = await projectContainers(ctx, { services });
  const tops = await Promise.all(
    list.map(
      (c) =>
        ctx.docker.getContainer(c.Id).top() as Promise<{ Titles: string[]; Processes: string[][] }>,
    ),
  );
  return list
    .map((c, i) => renderTop(containerName(c), tops[i] ?? { Titles: [], Processes: [] }))
    .join('');
}
