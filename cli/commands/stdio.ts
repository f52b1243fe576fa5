/**
 * Connecting a hijacked Engine API stream (exec start, container attach) to this process's stdio:
 * demultiplexing for non-TTY streams, raw mode for TTYs, and stdin forwarding with half-close.
 * Shared by `exec` and `run`; no API calls of its own.
 */
import { fstatSync } from 'node:fs';

import { FrameDecoder } from '../render/logs.js';

/**
 * Whether stdin carries input worth forwarding: a terminal, a pipe or a non-empty file
 * (not /dev/null, so `cmd </dev/null` runs without an attached stdin).
 */
export function stdinHasInput(): boolean {
  if (process.stdin.isTTY) return true;
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isSocket() || (st.isFile() && st.size > 0);
  } catch {
    return false;
  }
}

/**
 * Pipes `stream` to stdout/stderr (demultiplexed unless `tty`) and, with `stdin`, process.stdin to
 * it (ending its write side at EOF; raw mode on a terminal). Resolves when the output ends.
 */
export function pipeStdio(
  stream: NodeJS.ReadableStream,
  o: { tty: boolean; stdin: boolean },
): Promise<void> {
  const decoder = new FrameDecoder();
  const raw = o.stdin && o.tty && process.stdin.isTTY;
  if (raw) process.stdin.setRawMode(true);
  const writable = stream as unknown as Partial<NodeJS.WritableStream>;
  if (o.stdin && writable.write !== undefined && writable.end !== undefined) {
    const w = writable as NodeJS.WritableStream;
    process.stdin.on('data', (b: Buffer) => w.write(b));
    process.stdin.on('end', () => w.end());
    process.stdin.resume();
  }
  return new Promise<void>((resolve) => {
    const done = (): void => {
      if (raw) process.stdin.setRawMode(false);
      if (o.stdin) process.stdin.pause();
      resolve();
    };
    stream.on('data', (b: Buffer) => {
      if (o.tty) {
        process.stdout.write(b);
        return;
      }
      for (const f of decoder.push(b))
        (f.stream === 2 ? process.stderr : process.stdout).write(f.data);
    });
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
