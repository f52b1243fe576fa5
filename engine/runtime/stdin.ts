/**
 * The engine's end of an `OpenStdin` container's stdin: the state dir's FIFO, created and held
 * open for writing before the shim starts, written through a non-blocking socket, closed for EOF.
 * Owns that pipe only; when to close it (StdinOnce, exit, remove) is the container service's.
 */
import { closeSync, constants as fsConstants, lstatSync, openSync } from 'node:fs';
import { Socket } from 'node:net';

import { NativeError } from '../../base/errors.js';
import { mknod } from '../../native/index.js';

const S_IFIFO = 0o010000;

/**
 * The write end of a container init's stdin FIFO (Docker's `OpenStdin`). Opened `O_RDWR |
 * O_NONBLOCK` (open(2) of a FIFO for writing alone fails with ENXIO while no reader exists; with
 * O_RDWR there is always a writer, so the shim's `O_RDONLY` open and the init's reads never see
 * EOF before {@link close}). Writes queue in user space when the pipe buffer (64 KiB) is full.
 */
export class StdinPipe {
  private readonly socket: Socket;
  private ended = false;

  private constructor(fd: number) {
    this.socket = new Socket({ fd, readable: false, writable: true });
    // EPIPE cannot happen (this fd is a reader too); anything else ends the pipe
    this.socket.on('error', () => {
      this.ended = true;
      this.socket.destroy();
    });
  }

  /**
   * Creates the FIFO at `path` (mode 0600; an existing FIFO is reused, fifo(7)) and opens it.
   * @throws NativeError from mknod(2), or for `path` existing as something other than a FIFO
   * @throws the open(2) error (Node's ErrnoException)
   */
  static open(path: string): StdinPipe {
    try {
      mknod(path, S_IFIFO | 0o600, 0, 0);
    } catch (e) {
      if (!(e instanceof NativeError && e.errno === 'EEXIST')) throw e;
      if (!lstatSync(path).isFIFO())
        throw new NativeError('mknod', 'EEXIST', path, `mkfifo ${path}: EEXIST`);
    }
    const fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_NONBLOCK);
    try {
      return new StdinPipe(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** False once {@link close} or {@link destroy} ran (or the pipe failed). */
  get open(): boolean {
    return !this.ended && !this.socket.destroyed;
  }

  /**
   * Writes `chunk`; resolves when the pipe can take more (backpressure) or is gone. Data written
   * after {@link close} is dropped.
   */
  async write(chunk: Buffer): Promise<void> {
    if (!this.open) return;
    if (this.socket.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Closes the write end once what was written is flushed: the init reads EOF (StdinOnce). */
  close(): void {
    if (!this.open) return;
    this.ended = true;
    this.socket.end();
  }

  /** Closes the write end at once, dropping unread data (the init exited, or removal). */
  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }
}
