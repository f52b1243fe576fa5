/**
 * Progress output for plan execution, like docker compose's cmd/display modes: `tty` (a live listr2
 * task list), `plain` (one line per event), `json` (one object per event), `quiet` (nothing).
 * Always writes to stderr (stdout stays for command output). Knows nothing of the Engine API.
 */
import type { Writable } from 'node:stream';

import type * as Listr2 from 'listr2';
import type { DefaultRenderer, ListrTaskWrapper, SimpleRenderer } from 'listr2';

import { UsageError } from '../../base/errors.js';
import { lazy } from '../../base/lazy.js';
import {
  isFinal,
  renderJsonEvent,
  renderPlainEvent,
  type Op,
  type PlanNode,
  type ProgressEvent,
} from '../../compose/orchestrator/index.js';

/** A resolved progress mode (`auto` decided by whether stderr is a terminal). */
export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

/**
 * Resolves `--progress` (auto, tty, plain, json, quiet): `auto` is tty on a terminal, else plain.
 * @throws UsageError for any other value
 */
export function progressMode(flag: string | undefined, isTTY: boolean): ProgressMode {
  const v = flag ?? 'auto';
  if (v === 'auto') return isTTY ? 'tty' : 'plain';
  if (v === 'tty' || v === 'plain' || v === 'json' || v === 'quiet') return v;
  throw new UsageError(`unsupported --progress value ${JSON.stringify(v)}`, {
    hint: 'use one of auto, tty, plain, json, quiet',
  });
}

/** Receives execution events; `close` waits until the display has finished drawing. */
export interface ProgressDisplay {
  readonly onEvent: (e: ProgressEvent) => void;
  close(): Promise<void>;
}

/** `plain`: one line per event (` Container demo-web-1  Started 0.3s`). */
export function plainDisplay(out: Pick<Writable, 'write'>): ProgressDisplay {
  return {
    onEvent: (e) => {
      out.write(`${renderPlainEvent(e)}\n`);
    },
    close: () => Promise.resolve(),
  };
}

/** `json`: one JSON object per event and line. */
export function jsonDisplay(out: Pick<Writable, 'write'>): ProgressDisplay {
  return {
    onEvent: (e) => {
      out.write(`${renderJsonEvent(e)}\n`);
    },
    close: () => Promise.resolve(),
  };
}

/** `quiet`: nothing. */
export const quietDisplay: ProgressDisplay = {
  onEvent: () => undefined,
  close: () => Promise.resolve(),
};

/** The title of a task line: `Container demo-web-1  Started  0.3s` (time on final statuses). */
export function taskTitle(e: ProgressEvent): string {
  const time = isFinal(e.status) && e.status !== 'Skipped' ? `  ${(e.ms / 1000).toFixed(1)}s` : '';
  return `${e.kind} ${e.resource}  ${e.status}${time}`;
}

type Task = ListrTaskWrapper<unknown, typeof DefaultRenderer, typeof SimpleRenderer>;

/**
 * The `Kind resource` lines a node's events go to (as the executor reports them: a wait-service
 * node on each container it waits for).
 */
export function nodeLines(op: Op): string[] {
  switch (op.kind) {
    case 'pull-image':
    case 'remove-image':
      return [`Image ${op.ref}`];
    case 'create-network':
    case 'remove-network':
      return [`Network ${op.name}`];
    case 'create-volume':
    case 'remove-volume':
      return [`Volume ${op.name}`];
    case 'wait-service':
      return op.containers.length > 0
        ? op.containers.map((c) => `Container ${c}`)
        : [`Service ${op.service}`];
    case 'create-container':
    case 'start-container':
    case 'stop-container':
    case 'remove-container':
      return [`Container ${op.container.name}`];
  }
}

/** One drawn line: the resource, how many node events it still expects, its task once running. */
interface Line {
  pending: number;
  last?: ProgressEvent;
  failed: boolean;
  task?: Task;
  settle?: () => void;
}

/** listr2, initialised for the `tty` display only: plain, json and quiet runs skip its ~8 ms. */
const listr2 = lazy(
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a require inside a function is bundled but run on first use
  () => require('listr2') as typeof Listr2,
);

/**
 * `tty`: a live listr2 task list on stderr with one line per resource, like docker compose's
 * (`✔ Container demo-web-1  Started  0.3s`): a line appears with its first event, follows its
 * statuses (Creating, Created, Starting, Healthy, ...) and ends when every node acting on the
 * resource has ended. Lines whose nodes were all skipped before starting are never drawn.
 */
export function ttyDisplay(
  nodes: readonly PlanNode[],
  stderr: NodeJS.WriteStream,
): ProgressDisplay {
  const lines = new Map<string, Line>();
  for (const n of nodes) {
    for (const key of nodeLines(n.op)) {
      const l = lines.get(key) ?? { pending: 0, failed: false };
      l.pending++;
      lines.set(key, l);
    }
  }
  const { Listr, ListrLogger, ProcessOutput } = listr2();
  const logger = new ListrLogger({
    useIcons: true,
    toStderr: [],
    processOutput: new ProcessOutput(stderr, stderr, { dump: [], leaveEmptyLine: false }),
  });
  const list = new Listr<unknown>(
    [...lines.values()].map((line) => ({
      task: (_ctx: unknown, task: Task): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          line.task = task;
          line.settle = (): void => {
            if (line.last !== undefined && line.last.status !== 'Skipped') {
              task.title = taskTitle(line.last);
            }
            if (line.failed) reject(new UsageError('failed'));
            else resolve();
          };
          if (line.last !== undefined && line.last.status !== 'Skipped')
            task.title = taskTitle(line.last);
          if (line.pending <= 0) line.settle();
        }),
    })),
    {
      concurrent: true,
      exitOnError: false,
      registerSignalListeners: false,
      forceTTY: true,
      rendererOptions: { logger, showErrorMessage: false, collapseErrors: true },
    },
  );
  const run = list.run().catch(() => undefined);
  return {
    onEvent: (e) => {
      const line = lines.get(`${e.kind} ${e.resource}`);
      if (!line) return;
      if (e.status !== 'Skipped' || line.last === undefined) line.last = e;
      if (e.status === 'Error') line.failed = true;
      if (isFinal(e.status)) line.pending--;
      if (line.pending <= 0) line.settle?.();
      else if (line.task && e.status !== 'Skipped') line.task.title = taskTitle(e);
    },
    close: async () => {
      for (const line of lines.values()) {
        line.pending = 0;
        line.settle?.();
      }
      await run;
    },
  };
}

/** The display for a mode (tty needs the plan nodes to lay out its lines). */
export function createDisplay(
  mode: ProgressMode,
  nodes: readonly PlanNode[],
  stderr: NodeJS.WriteStream = process.stderr,
): ProgressDisplay {
  switch (mode) {
    case 'tty':
      return ttyDisplay(nodes, stderr);
    case 'plain':
      return plainDisplay(stderr);
    case 'json':
      return jsonDisplay(stderr);
    case 'quiet':
      return quietDisplay;
  }
}
