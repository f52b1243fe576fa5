/**
 * `tscompose pull` (pull the services' images, with progress) and `tscompose images` (the images
 * the project's containers use: CONTAINER REPOSITORY TAG IMAGE ID SIZE). Return exit code / text.
 */
import type { Command } from 'commander';

import { PlanBuilder, serviceImage } from '../../compose/orchestrator/index.js';
import type { GlobalOptions } from '../options.js';
import { formatRows, humanSize } from '../render/format.js';
import { checkServices, containerName, openProject, projectContainers, runPlan } from './common.js';

/** Registers `pull` and `images`. */
export function registerImages(program: Command, globals: () => GlobalOptions): void {
  program
    .command('pull')
    .description('Pull service images')
    .argument('[service...]', 'services')
    .option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures')
    .option('-q, --quiet', 'Pull without printing progress information')
    .option('--include-deps', 'Also pull services declared as dependencies')
    .action(async (services: string[], o: { ignorePullFailures?: boolean; quiet?: boolean }) => {
      process.exitCode = await runPull(globals(), services, o);
    });
  program
    .command('images')
    .description('List images used by the created containers')
    .argument('[service...]', 'services')
    .option('-q, --quiet', 'Only display IDs')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .action(async (services: string[], o: { quiet?: boolean; format?: string }) => {
      process.stdout.write(await runImages(globals(), services, o));
    });
}

/** Runs `pull`: one pull-image node per distinct image of the selected services (not build-only ones). */
export async function runPull(
  g: GlobalOptions,
  services: readonly string[],
  o: { ignorePullFailures?: boolean | undefined; quiet?: boolean | undefined },
): Promise<number> {
  const ctx = await openProject(g, { start: true });
  const project = ctx.loaded?.project;
  if (!project) return 1;
  checkServices(ctx, services);
  const b = new PlanBuilder();
  const seen = new Set<string>();
  for (const [name, svc] of Object.entries(project.services).sort(([a], [c]) =>
    a.localeCompare(c),
  )) {
    if (services.length > 0 && !services.includes(name)) continue;
    if (svc.image === undefined) continue;
    const ref = serviceImage(project.name, name, svc);
    if (seen.has(ref)) continue;
    seen.add(ref);
    b.add({ kind: 'pull-image', ref, platform: svc.platform }, 'pull');
  }
  const gq = o.quiet === true ? { ...g, progress: 'quiet' } : g;
  try {
    await runPlan(gq, ctx.docker, { nodes: b.nodes, orphans: [] });
  } catch (e) {
    if (o.ignorePullFailures !== true) throw e;
  }
  return 0;
}

/** One row of `images --format json`. */
export interface ImageRow {
  readonly ContainerName: string;
  readonly Repository: string;
  readonly Tag: string;
  readonly ID: string;
  readonly Size: number;
}

/** Splits `repo:tag` (a registry port is not a tag). */
export function splitRef(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}

/** Computes `images`'s output. */
export async function runImages(
  g: GlobalOptions,
  services: readonly string[],
  o: { quiet?: boolean | undefined; format?: string | undefined },
): Promise<string> {
  const ctx = await openProject(g, { optional: true });
  checkServices(ctx, services);
  const list = await projectContainers(ctx, { all: true, services });
  const rows: ImageRow[] = [];
  for (const c of list) {
    const img = await ctx.docker
      .getImage(c.ImageID)
      .inspect()
      .catch(() => undefined);
    const [repo, tag] = splitRef(img?.RepoTags?.[0] ?? c.Image);
    rows.push({
      ContainerName: containerName(c),
      Repository: repo,
      Tag: tag,
      ID: c.ImageID,
      Size: img?.Size ?? 0,
    });
  }
  if (o.quiet === true) return [...new Set(rows.map((r) => r.ID))].map((i) => `${i}\n`).join('');
  return formatRows(o.format ?? 'table', rows, {
    headers: ['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'],
    cells: (r) => [
      r.ContainerName,
      r.Repository,
      r.Tag,
      r.ID.replace(/^sha256:/, '').slice(0, 12),
      humanSize(r.Size),
    ],
  });
}
