/**
 * `tscompose cp`: copy files between a service container and the host (docker compose cp:
 * `SERVICE:SRC_PATH DEST_PATH` or `SRC_PATH SERVICE:DEST_PATH`, --index) through the Engine API's
 * archive endpoints (tar). Returns the exit code.
 */
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { basename, dirname, posix, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

import type { Command } from 'commander';
import type * as Tar from 'tar';

import { UsageError } from '../../base/errors.js';
import { lazy } from '../../base/lazy.js';
import type { GlobalOptions } from '../options.js';
import { checkServices, intFlag, openProject, serviceContainer } from './common.js';

/** The tar package, loaded on the first copy (it is ~6 ms of every command's start otherwise). */
const tar = lazy(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require inside a function is bundled but run on first use
  () => require('tar') as typeof Tar,
);

/** A side of a copy: a host path, or a path in a service's container. */
export type CopyEndpoint =
  | { readonly kind: 'host'; readonly path: string }
  | { readonly kind: 'service'; readonly service: string; readonly path: string };

/** Parses `SERVICE:PATH` or a host path (`./a:b` and absolute paths are host paths). */
export function parseCopyEndpoint(arg: string): CopyEndpoint {
  const i = arg.indexOf(':');
  if (i <= 0 || arg.startsWith('/') || arg.startsWith('.')) return { kind: 'host', path: arg };
  return { kind: 'service', service: arg.slice(0, i), path: arg.slice(i + 1) };
}

/** Registers `cp`. */
export function registerCp(program: Command, globals: () => GlobalOptions): void {
  program
    .command('cp')
    .description('Copy files/folders between a service container and the local filesystem')
    .argument('<src>', 'SERVICE:SRC_PATH or a local path')
    .argument('<dest>', 'DEST_PATH or SERVICE:DEST_PATH')
    .option('--index <n>', 'Index of the container if service has multiple replicas', '1')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .action(async (src: string, dest: string, o: { index?: string }) => {
      process.exitCode = await runCp(globals(), src, dest, o);
    });
}

/** Runs `cp`. */
export async function runCp(
  g: GlobalOptions,
  src: string,
  dest: string,
  o: { index?: string | undefined },
): Promise<number> {
  const from = parseCopyEndpoint(src);
  const to = parseCopyEndpoint(dest);
  if ((from.kind === 'service') === (to.kind === 'service')) {
    throw new UsageError('copying between containers or between local paths is not supported', {
      hint: 'use SERVICE:SRC_PATH DEST_PATH or SRC_PATH SERVICE:DEST_PATH',
    });
  }
  const service = from.kind === 'service' ? from.service : to.kind === 'service' ? to.service : '';
  const ctx = await openProject(g);
  checkServices(ctx, [service]);
  const c = ctx.docker.getContainer(
    (await serviceContainer(ctx, service, intFlag('--index', o.index) ?? 1)).Id,
  );
  if (from.kind === 'service') {
    // into an existing directory: keep the name; else the copy takes the destination's name
    const target = resolve(to.path);
    const intoDir = existsSync(target) && statSync(target).isDirectory();
    const dir = intoDir ? target : dirname(target);
    mkdirSync(dir, { recursive: true });
    const archive = await c.getArchive({ path: from.path });
    await pipeline(archive, tar().x({ cwd: dir }));
    const name = basename(from.path.replace(/\/+$/, ''));
    if (!intoDir && name !== basename(target)) renameSync(resolve(dir, name), target);
  } else {
    // into an existing directory: keep the name; else the copy takes the destination's name in
    // its parent (docker cp's rule), so stat the destination first (HEAD archive)
    const source = resolve(from.path);
    const dest = to.kind === 'service' ? to.path : '/';
    const head = await c.infoArchive({ path: dest }).then(
      (res) => {
        const msg = res as unknown as IncomingMessage;
        msg.resume();
        const h = msg.headers['x-docker-container-path-stat'];
        return typeof h === 'string'
          ? (JSON.parse(Buffer.from(h, 'base64').toString()) as { mode: number })
          : undefined;
      },
      () => undefined,
    );
    const intoDir = head !== undefined && head.mode >= 2 ** 31; // Go os.ModeDir
    const from0 = basename(source);
    const name = intoDir ? from0 : posix.basename(dest);
    const pack = tar().c(
      {
        cwd: dirname(source),
        onWriteEntry: (e) => {
          e.path = name + e.path.slice(from0.length);
        },
      },
      [from0],
    );
    await c.putArchive(pack as unknown as NodeJS.ReadableStream, {
      path: intoDir ? dest : posix.dirname(dest),
    });
  }
  return 0;
}
