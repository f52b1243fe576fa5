/**
 * Progress output for plan execution, like docker compose's cmd/display modes: `tty` (a live listr2
 * task list), `plain` (one line per event), `json` (one object per event), `quiet` (nothing).
 * Always writes to stderr (stdout stays for command output). Knows nothing of the Engine API.
 */
import type { Writable } from 'node:stream';

import {
  Listr,
  ListrLogger,
  ProcessOutput,
  type DefaultRenderer,
  type ListrTaskWrapper,
  type SimpleRenderer,
} from 'listr2';

import { UsageError } from '../../base/errors.js';
import {
  isFinal,
  renderJsonEvent,
  renderPlainEvent,
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

/** Per-node state: the task wrapper once listr runs it, its last event, and its settle hook. */
interface NodeSlot {
  task?: Task;
  last?: ProgressEvent;
  settle?: (e: ProgressEvent) => void;
}

/**
 * `tty`: a live listr2 task list on stderr, one line per plan node. A task has no title (so listr2
 * draws nothing) until its node's first event; then `Container demo-web-1  Starting`, and at the
 * end its final status and duration. Nodes skipped before they started are never drawn.
 */
export function ttyDisplay(
  nodes: readonly PlanNode[],
  stderr: NodeJS.WriteStream,
): ProgressDisplay {
  const slots = new Map<number, NodeSlot>();
  for (const n of nodes) slots.set(n.id, {});
  const logger = new ListrLogger({
    useIcons: true,
    toStderr: [],
    processOutput: new ProcessOutput(stderr, stderr, { dump: [], leaveEmptyLine: false }),
  });
  const settleTask = (
    task: Task,
    e: ProgressEvent,
    resolve: () => void,
    reject: (x: unknown) => void,
  ): void => {
    if (e.status === 'Skipped') {
      resolve();
      return;
    }
    task.title = taskTitle(e);
    if (e.status === 'Error') reject(new UsageError(`${e.kind} ${e.resource}  Error`));
    else resolve();
  };
  const list = new Listr<unknown>(
    nodes.map((n) => ({
      task: (_ctx: unknown, task: Task): Promise<void> =>
        new Promise<void>((resolve, reject) => {
          const slot = slots.get(n.id) ?? {};
          slot.task = task;
          if (slot.last && isFinal(slot.last.status)) {
            settleTask(task, slot.last, resolve, reject);
            return;
          }
          if (slot.last) task.title = taskTitle(slot.last);
          slot.settle = (e): void => settleTask(task, e, resolve, reject);
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
      const slot = slots.get(e.node);
      if (!slot) return;
      slot.last = e;
      if (!slot.task) return;
      if (isFinal(e.status)) slot.settle?.(e);
      else slot.task.title = taskTitle(e);
    },
    close: async () => {
      // nodes that never produced an event (nothing to do) end untitled
      for (const slot of slots.values()) {
        if (slot.last === undefined)
          slot.settle?.({ node: 0, kind: 'Container', resource: '', status: 'Skipped', ms: 0 });
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
