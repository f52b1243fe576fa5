/**
 * Stream encodings of the Engine API: the multiplexed stdout/stderr framing of attach/logs/exec
 * without a TTY (API reference "Attach to a container": 8-byte header `[stream,0,0,0,size32be]`),
 * and newline-delimited JSON for streamed results (events, pull progress, stats).
 */
import type { Writable } from 'node:stream';

import { EngineError } from '../../base/errors.js';

/** Stream ids in the multiplexed framing. */
export const STDIN = 0;
/** stdout stream id. */
export const STDOUT = 1;
/** stderr stream id. */
export const STDERR = 2;
/** Stream id of a multiplexed frame. */
export type StreamId = typeof STDIN | typeof STDOUT | typeof STDERR;

/** Largest payload one frame carries (the size field is a uint32). */
const MAX_FRAME = 0xffffffff;

/** One frame: the 8-byte header followed by `payload`. */
export function encodeFrame(stream: StreamId, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  if (body.length > MAX_FRAME) {
    throw new EngineError(
      'TSC_ENGINE_INVALID',
      { kind: 'frame', name: String(stream) },
      `encode frame: ${body.length} bytes is too large`,
    );
  }
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** A decoded frame. */
export interface Frame {
  readonly stream: StreamId;
  readonly payload: Buffer;
}

/**
 * Incremental decoder of the multiplexed framing: `push(chunk)` returns the frames completed by
 * this chunk; partial frames wait for more bytes. Throws TSC_ENGINE_INVALID on an unknown stream id.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Frame[] {
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const frames: Frame[] = [];
    while (this.buf.length >= 8) {
      const id = this.buf[0] ?? 0;
      if (id > STDERR) {
        throw new EngineError(
          'TSC_ENGINE_INVALID',
          { kind: 'frame', name: String(id) },
          `decode frame: unknown stream id ${id}`,
        );
      }
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      frames.push({ stream: id as StreamId, payload: this.buf.subarray(8, 8 + size) });
      this.buf = this.buf.subarray(8 + size);
    }
    return frames;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }
}

/**
 * Writes one JSON value and `\n` to `out`; resolves when the stream can take more (backpressure),
 * or at once when `out` is already ended or destroyed.
 */
export function writeJsonLine(out: Writable, value: unknown): Promise<void> {
  if (out.destroyed || out.writableEnded) return Promise.resolve();
  const ok = out.write(`${JSON.stringify(value)}\n`);
  if (ok) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.once('drain', done);
    out.once('close', done);
  });
}
