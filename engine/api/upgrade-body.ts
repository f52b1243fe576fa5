/**
 * The request body of an HTTP upgrade (attach, exec start). Node parses no body on a request with
 * `Connection: Upgrade`: the bytes after the headers (`head`, then the socket) carry the body,
 * framed as any HTTP/1.1 body, and after it the upgraded stream (the process's stdin). Owns that
 * framing only; what the body means is the route's.
 */
import type { Socket } from 'node:net';

import { EngineError } from '../../base/errors.js';

/** An upgrade request's body and the stream bytes already read past it. */
export interface UpgradeBody {
  /** The body, de-chunked (empty when the request has none). */
  readonly body: Buffer;
  /** Bytes of the upgraded stream read along with the body; the caller hands them on. */
  readonly rest: Buffer;
}

/** Largest body accepted before the upgrade (bytes): attach and exec bodies are small JSON. */
const MAX_BODY = 1 << 20;

const invalid = (what: string): EngineError =>
  new EngineError('TSC_ENGINE_INVALID', { kind: 'request', name: 'body' }, what);

/**
 * Reads the body of an upgrade request from `head` and, when `head` ends before the body does,
 * from `socket` (paused-mode reads; nothing else may read the socket meanwhile). Framing as
 * RFC 9112 §6: `Content-Length: N` -> the next N bytes; `Transfer-Encoding: chunked` (what
 * docker-modem sends for a hijack without a body: a lone `0\r\n\r\n`) -> chunks up to the
 * zero-size chunk and its trailer section; neither -> no body.
 *
 * @throws EngineError TSC_ENGINE_INVALID on a malformed length or chunk, a body over 1 MiB, or a
 *   connection that ends inside the body.
 */
export async function readUpgradeBody(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  head: Buffer,
  socket: Socket,
): Promise<UpgradeBody> {
  let buf = head;
  /** Waits until `buf` holds at least `n` bytes. */
  const fill = async (n: number): Promise<void> => {
    if (n > MAX_BODY + 64) throw invalid('request body too large for an upgrade');
    while (buf.length < n) {
      const chunk = await readSome(socket);
      if (chunk === undefined) throw invalid('connection closed inside the request body');
      buf = Buffer.concat([buf, chunk]);
    }
  };
  /** The index just past the next CRLF at or after `from`, reading more as needed. */
  const lineEnd = async (from: number): Promise<number> => {
    for (;;) {
      const i = buf.indexOf('\r\n', from);
      if (i >= 0) return i + 2;
      await fill(buf.length + 1);
    }
  };

  const te = String(headers['transfer-encoding'] ?? '').toLowerCase();
  if (te.split(',').some((t) => t.trim() === 'chunked')) {
    const parts: Buffer[] = [];
    let pos = 0;
    let total = 0;
    for (;;) {
      const end = await lineEnd(pos);
      const sizeText =
        buf
          .subarray(pos, end - 2)
          .toString('latin1')
          .split(';')[0]
          ?.trim() ?? '';
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw invalid(`bad chunk size ${sizeText}`);
      const size = Number.parseInt(sizeText, 16);
      pos = end;
      if (size === 0) {
        // trailer fields, then the empty line that ends the body
        for (;;) {
          const e = await lineEnd(pos);
          const empty = e - pos === 2;
          pos = e;
          if (empty) break;
        }
        break;
      }
      total += size;
      if (total > MAX_BODY) throw invalid('request body too large for an upgrade');
      await fill(pos + size + 2);
      parts.push(buf.subarray(pos, pos + size));
      if (buf[pos + size] !== 0x0d || buf[pos + size + 1] !== 0x0a)
        throw invalid('chunk not followed by CRLF');
      pos += size + 2;
    }
    return { body: Buffer.concat(parts), rest: buf.subarray(pos) };
  }

  const cl = headers['content-length'];
  if (cl === undefined) return { body: Buffer.alloc(0), rest: buf };
  const text = Array.isArray(cl) ? cl[0] : cl;
  if (text === undefined || !/^\d{1,9}$/.test(text.trim()))
    throw invalid(`bad Content-Length ${String(text)}`);
  const n = Number(text.trim());
  if (n > MAX_BODY) throw invalid('request body too large for an upgrade');
  await fill(n);
  return { body: buf.subarray(0, n), rest: buf.subarray(n) };
}

/** The next bytes the socket has (paused mode), or undefined once it has ended or closed. */
async function readSome(socket: Socket): Promise<Buffer | undefined> {
  for (;;) {
    const chunk = socket.read() as Buffer | null;
    if (chunk !== null) return chunk;
    if (socket.readableEnded || socket.destroyed) return undefined;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('readable', done);
        socket.off('end', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('readable', done);
      socket.on('end', done);
      socket.on('close', done);
    });
  }
}
