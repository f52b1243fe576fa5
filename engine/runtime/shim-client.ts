/**
 * The engine's side of the shim handshake on fd 3 (docs/native.md): spawns tscompose-shim, writes
 * the encoded LaunchSpec, reads 32-byte messages (pid, exec-ok, error) and writes "go". Knows the
 * wire format only; launch.ts and exec.ts decide what to do with it.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import { EngineError } from '../../base/errors.js';
import { shimPath } from '../../native/index.js';

/** Message types (`enum tsc_msg_type`). */
export const MSG = { pid: 1, execOk: 2, error: 3 } as const;

/** Size of one shim -> engine message, in bytes. */
export const MSG_SIZE = 32;

/** One shim -> engine message (`struct tsc_msg`). */
export interface ShimMessage {
  /** {@link MSG} */
  readonly type: number;
  /** Init pid (host view); for errors the pid that failed, or 0. */
  readonly pid: number;
  readonly shimPid: number;
  /** Error records only: `enum tsc_stage`, `enum tsc_op`, errno, spec list index (-1 none). */
  readonly stage: number;
  readonly op: number;
  readonly errno: number;
  readonly arg: number;
  /** Error records only: 125/126/127. */
  readonly exitCode: number;
}

/** Decodes a 32-byte message (little-endian, native/src/shim.h). */
export function parseShimMessage(b: Buffer): ShimMessage {
  return {
    type: b.readUInt32LE(0),
    pid: b.readInt32LE(4),
    shimPid: b.readInt32LE(8),
    stage: b.readUInt32LE(12),
    op: b.readUInt32LE(16),
    errno: b.readInt32LE(20),
    arg: b.readInt32LE(24),
    exitCode: b.readUInt32LE(28),
  };
}

/** The byte that releases the init (`TSC_GO`). */
const GO = Buffer.from('G');

/** The fd-3 channel to one shim. */
export class ShimChannel {
  private buffered = Buffer.alloc(0);
  private waiting: ((m: ShimMessage | undefined) => void) | undefined;
  private ended = false;

  constructor(
    private readonly socket: Socket,
    private readonly what: string,
  ) {
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.deliver();
    });
    const end = (): void => {
      this.ended = true;
      this.deliver();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private deliver(): void {
    if (!this.waiting) return;
    if (this.buffered.length >= MSG_SIZE) {
      const m = parseShimMessage(this.buffered.subarray(0, MSG_SIZE));
      this.buffered = this.buffered.subarray(MSG_SIZE);
      const w = this.waiting;
      this.waiting = undefined;
      w(m);
    } else if (this.ended) {
      const w = this.waiting;
      this.waiting = undefined;
      w(undefined);
    }
  }

  /** The next message, or undefined when the shim closed the channel first. */
  next(): Promise<ShimMessage | undefined> {
    return new Promise((resolveMessage) => {
      this.waiting = resolveMessage;
      this.deliver();
    });
  }

  /**
   * The next message, which must be one of `types`.
   * @throws EngineError TSC_ENGINE_STATE when the channel closed or the message is unexpected
   */
  async expect(...types: number[]): Promise<ShimMessage> {
    const m = await this.next();
    if (!m || !types.includes(m.type)) {
      throw new EngineError(
        'TSC_ENGINE_STATE',
        { kind: 'container', name: this.what },
        `${this.what}: shim handshake: ${m ? `unexpected message ${m.type}` : 'shim closed the channel'}`,
      );
    }
    return m;
  }

  /** Writes the spec blob. */
  send(blob: Buffer): void {
    this.socket.write(blob);
  }

  /** Releases the init ("go"). */
  go(): void {
    this.socket.write(GO);
  }

  /** Closes the channel; before "go" this makes the shim kill the init and exit. */
  close(): void {
    this.socket.destroy();
  }
}

/** A spawned shim with its channel. */
export interface SpawnedShim {
  readonly child: ChildProcess;
  readonly channel: ShimChannel;
  /** Resolves with the shim's exit code (or 128+signal). */
  readonly exited: Promise<number>;
}

/**
 * Spawns `tscompose-shim <mode>` with fd 3 as the channel and writes `blob` on it; without a
 * blob the shim waits for one (send it with `channel.send`; closing the channel instead makes
 * the shim exit). `run` shims are detached (own session, outlive the engine); `exec` shims stay
 * attached.
 */
export function spawnShim(
  mode: 'run' | 'exec',
  blob: Buffer | undefined,
  what: string,
  stdio: StdioOptions = ['ignore', 'ignore', 'ignore'],
): SpawnedShim {
  const base = Array.isArray(stdio) ? stdio.slice(0, 3) : [stdio, stdio, stdio];
  const child = spawn(shimPath(), [mode], { detached: mode === 'run', stdio: [...base, 'pipe'] });
  const exited = new Promise<number>((resolveExit) => {
    child.on('exit', (code, signal) =>
      resolveExit(code ?? 128 + (signal ? signalNumber(signal) : 0)),
    );
    child.on('error', () => resolveExit(127));
  });
  const socket = child.stdio[3] as Socket;
  const channel = new ShimChannel(socket, what);
  if (blob) channel.send(blob);
  return { child, channel, exited };
}

/** The number of a signal name (os.constants.signals). */
export function signalNumber(signal: NodeJS.Signals | number): number {
  if (typeof signal === 'number') return signal;
  return constants.signals[signal];
}
