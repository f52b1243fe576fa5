/**
 * Container logs from the shim's json-file log (Docker's `{"log","stream","time"}` lines, rotated
 * files `<log>.1`, `<log>.2`, ...): since/until/tail/timestamps filtering, the multiplexed framing
 * without a TTY, and follow by polling the file. Reads files only; never writes the log.
 */
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';

import { encodeFrame, STDERR, STDOUT } from '../api/stream.js';
import type { ContainerLogsQuery } from '../api/services.js';
import { ChangeWaiter } from './change-waiter.js';

/** One json-file log entry. */
export interface LogEntry {
  readonly log: string;
  readonly stream: 'stdout' | 'stderr';
  readonly time: string;
}

/** Parses json-file lines; a partial last line (being written) is left out. */
export function parseLogLines(text: string): { entries: LogEntry[]; consumed: number } {
  const entries: LogEntry[] = [];
  let consumed = 0;
  for (;;) {
    const nl = text.indexOf('\n', consumed);
    if (nl < 0) break;
    const line = text.slice(consumed, nl);
    consumed = nl + 1;
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as LogEntry;
      if (typeof e.log === 'string') entries.push(e);
    } catch {
      // a torn line after a crash: skipped, as dockerd's decoder does
    }
  }
  return { entries, consumed };
}

/** Nanoseconds since the epoch of an RFC3339Nano time, as a bigint-free float of seconds. */
function seconds(time: string): number {
  const m = /\.(\d+)Z$/.exec(time);
  const base = Date.parse(time.replace(/\.\d+Z$/, 'Z')) / 1000;
  return m ? base + Number(`0.${m[1]}`) : base;
}

/** Encodes one entry for the client: framed unless `tty`, with a timestamp prefix when asked. */
export function encodeEntry(e: LogEntry, q: ContainerLogsQuery, tty: boolean): Buffer | undefined {
  if (e.stream === 'stdout' && !q.stdout) return undefined;
  if (e.stream === 'stderr' && !q.stderr) return undefined;
  const text = q.timestamps ? `${e.time} ${e.log}` : e.log;
  if (tty) return Buffer.from(text);
  return encodeFrame(e.stream === 'stderr' ? STDERR : STDOUT, text);
}

function keep(e: LogEntry, q: ContainerLogsQuery): boolean {
  const t = seconds(e.time);
  if (q.since > 0 && t < q.since) return false;
  if (q.until > 0 && t > q.until) return false;
  return true;
}

async function readIf(path: string): Promise<string> {
  return fsp.readFile(path, 'utf8').catch(() => '');
}

/**
 * Writes the log of a container to `out` per `q`. With `follow`, keeps reading the live file (woken
 * by changes in its directory, else every 100 ms) until `running()` turns false (and the file is
 * drained) or `signal` aborts; `onWaiter` receives a function that wakes the follow at once (call it
 * when `running()` turns false).
 */
export async function streamLogs(
  logPath: string,
  q: ContainerLogsQuery,
  tty: boolean,
  out: Writable,
  running: () => boolean,
  signal: AbortSignal,
  onWaiter?: (poke: () => void) => void,
): Promise<void> {
  const rotated: string[] = [];
  for (let i = 1; i < 100; i++) {
    const t = await readIf(`${logPath}.${i}`);
    if (t === '') break;
    rotated.unshift(t);
  }
  const live = await readIf(logPath);
  const all = [...rotated.flatMap((t) => parseLogLines(t).entries)];
  const first = parseLogLines(live);
  all.push(...first.entries);
  let entries = all.filter((e) => keep(e, q));
  if (q.tail !== 'all') entries = q.tail <= 0 ? [] : entries.slice(-q.tail);
  const write = (e: LogEntry): void => {
    const b = encodeEntry(e, q, tty);
    if (b && !out.destroyed) out.write(b);
  };
  entries.forEach(write);
  if (!q.follow) return;
  let offset = Buffer.byteLength(live.slice(0, first.consumed));
  let carry = '';
  // any change in the container dir (log write, exit record, record update) ends a wait early
  const waiter = new ChangeWaiter(dirname(logPath));
  onWaiter?.(() => waiter.poke());
  try {
    for (;;) {
      if (signal.aborted || out.destroyed) return;
      const wasRunning = running();
      const fh = await fsp.open(logPath, 'r').catch(() => undefined);
      if (fh) {
        try {
          const st = await fh.stat();
          if (st.size < offset) offset = 0; // rotated
          if (st.size > offset) {
            const buf = Buffer.alloc(st.size - offset);
            await fh.read(buf, 0, buf.length, offset);
            offset = st.size;
            const parsed = parseLogLines(carry + buf.toString('utf8'));
            carry = (carry + buf.toString('utf8')).slice(parsed.consumed);
            parsed.entries.filter((e) => keep(e, q)).forEach(write);
          }
        } finally {
          await fh.close();
        }
      }
      if (!wasRunning) return;
      if (q.until > 0 && Date.now() / 1000 > q.until) return;
      await waiter.wait(100, signal);
    }
  } finally {
    waiter.close();
  }
}
