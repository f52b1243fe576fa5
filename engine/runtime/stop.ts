/**
 * Signals and stops a running container (moby daemon/stop.go, kill.go): signals go to the init
 * through a pidfd after checking it is still the shim's child; stop = stop signal, wait the grace
 * period, then SIGKILL. Never removes anything.
 */
import { readFileSync } from 'node:fs';
import { EngineError, NativeError } from '../../base/errors.js';
import { closeFd, pidfdOpen, pidfdSendSignal } from '../../native/index.js';
import { readExitRecord, waitForExit, type ExitRecord } from './exit.js';
import { signalNumber } from './shim-client.js';

/** The parts of a launched container that stop/kill need. */
export interface SignalTarget {
  readonly id: string;
  readonly initPid: number;
  readonly shimPid: number;
  readonly exitPath: string;
}

/** Docker's default grace period: 10 s (moby config_linux.go defaultStopTimeout). */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

/**
 * Sends `signal` to the container's init (docker kill).
 * @throws EngineError TSC_ENGINE_STATE when the container is not running
 */
export function kill(c: SignalTarget, signal: NodeJS.Signals | number): void {
  const notRunning = (): EngineError =>
    new EngineError(
      'TSC_ENGINE_STATE',
      { kind: 'container', name: c.id },
      `kill container ${c.id}: container is not running`,
    );
  if (readExitRecord(c.exitPath)) throw notRunning();
  let fd: number;
  try {
    fd = pidfdOpen(c.initPid);
  } catch (e) {
    if (e instanceof NativeError && e.errno === 'ESRCH') throw notRunning();
    throw e;
  }
  try {
    // the pidfd pins the process; its parent proves it is our init and not a reused pid
    if (parentOf(c.initPid) !== c.shimPid) throw notRunning();
    pidfdSendSignal(fd, signalNumber(signal));
  } catch (e) {
    if (e instanceof NativeError && e.errno === 'ESRCH') throw notRunning();
    throw e;
  } finally {
    closeFd(fd);
  }
}

/** Options of {@link stop}. */
export interface StopOptions {
  /** The container's stop signal (compose `stop_signal`), default SIGTERM. */
  readonly signal?: NodeJS.Signals | number | undefined;
  /** Grace period in ms before SIGKILL; negative waits forever. Default 10 s. */
  readonly timeoutMs?: number | undefined;
}

/**
 * docker stop: the stop signal, then SIGKILL after the grace period; resolves with the exit record.
 * @throws EngineError TSC_ENGINE_STATE when the shim vanished without a record
 */
export async function stop(c: SignalTarget, opts: StopOptions = {}): Promise<ExitRecord> {
  const done = readExitRecord(c.exitPath);
  if (done) return done;
  let sent = true;
  try {
    kill(c, opts.signal ?? 'SIGTERM');
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    sent = false;
  }
  const grace = sent ? (opts.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS) : 2000;
  const first = await waitForExit(c, grace);
  if (first) return first;
  try {
    kill(c, 'SIGKILL');
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
  }
  const last = await waitForExit(c, -1);
  if (!last)
    throw new EngineError(
      'TSC_ENGINE_STATE',
      { kind: 'container', name: c.id },
      `stop container ${c.id}: no exit record`,
    );
  return last;
}
