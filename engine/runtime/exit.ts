/**
 * The exit record the shim writes atomically when the init has been reaped (`exit.json`, see
 * docs/native.md): decode it, wait for it, tell whether a shim still runs. Reads files only;
 * never signals anything.
 */
import { readFileSync } from 'node:fs';
import { EngineError } from '../../base/errors.js';

/** What the shim recorded when the container's init ended. */
export interface ExitRecord {
  /** Exit status, or 128+signal when killed (SIGKILL -> 137), or 125/126/127 for setup failures. */
  readonly exitCode: number;
  /** The terminating signal number, 0 when the init exited normally. */
  readonly signal: number;
  /** True when the cgroup's oom_kill counter rose while the container ran. */
  readonly oomKilled: boolean;
  /** RFC3339Nano UTC time the shim reaped the init. */
  readonly finishedAt: string;
  /** The init's pid (host view). */
  readonly pid: number;
}

/**
 * Parses the exit record JSON.
 * @throws EngineError TSC_ENGINE_STATE when the text is not an exit record
 */
export function parseExitRecord(text: string): ExitRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new EngineError(
      'TSC_ENGINE_STATE',
      { kind: 'container', name: '' },
      'read exit record: invalid json',
      { cause: e },
    );
  }
  const r = v as Record<string, unknown>;
  if (
    typeof r.exitCode !== 'number' ||
    typeof r.signal !== 'number' ||
    typeof r.oomKilled !== 'boolean' ||
    typeof r.finishedAt !== 'string' ||
    typeof r.pid !== 'number'
  ) {
    throw new EngineError(
      'TSC_ENGINE_STATE',
      { kind: 'container', name: '' },
      'read exit record: missing fields',
    );
  }
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    oomKilled: r.oomKilled,
    finishedAt: r.finishedAt,
    pid: r.pid,
  };
}

/** The exit record at `path`, or undefined while the container runs. */
export function readExitRecord(path: string): ExitRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseExitRecord(text);
}

/**
 * True while `pid` runs, from proc(5) `/proc/<pid>/stat` (a zombie counts as gone: it has
 * exited, only the reaping is left; a pid that does not exist is gone). Never throws.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * True when a launched container still runs as far as its files and the process table tell: no
 * exit record (or an unreadable one) and its shim alive. What an engine restart re-adopts
 * (engine/containers recovery); anything else of the container is left over and may be killed.
 * Reads files only.
 */
export function shimRuns(c: { readonly exitPath: string; readonly shimPid: number }): boolean {
  let rec: ExitRecord | undefined;
  try {
    rec = readExitRecord(c.exitPath);
  } catch {
    // a torn record cannot come from the shim's atomic write: treat it as written
    return false;
  }
  return rec === undefined && isAlive(c.shimPid);
}

/** How long the shim may take to exit after writing the record, in ms. */
const SHIM_EXIT_MS = 5000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll interval while waiting for the exit record, in ms. */
const POLL_MS = 20;

/**
 * Waits until the exit record exists and the shim has exited (it exits right after writing the
 * record, so "done" means nothing of the container runs). Resolves undefined after `timeoutMs`
 * (negative = forever) when there is no record yet.
 * @throws EngineError TSC_ENGINE_STATE when the shim is gone without writing a record
 */
export async function waitForExit(
  c: { readonly exitPath: string; readonly shimPid: number; readonly id: string },
  timeoutMs = -1,
): Promise<ExitRecord | undefined> {
  const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
  for (;;) {
    const rec = readExitRecord(c.exitPath);
    if (rec) {
      const shimDeadline = Date.now() + SHIM_EXIT_MS;
      while (isAlive(c.shimPid) && Date.now() < shimDeadline) await sleep(POLL_MS);
      return rec;
    }
    if (!isAlive(c.shimPid)) {
      const last = readExitRecord(c.exitPath);
      if (last) return last;
      throw new EngineError(
        'TSC_ENGINE_STATE',
        { kind: 'container', name: c.id },
        `wait for container ${c.id}: shim ${c.shimPid} exited without an exit record`,
      );
    }
    if (Date.now() >= deadline) return undefined;
    await sleep(POLL_MS);
  }
}
