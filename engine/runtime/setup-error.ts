/**
 * Turns the shim's fixed error record (stage, op, errno, argument index) into a readable error,
 * `mount /srv/data on /data: ENOENT`, using the LaunchSpec that was sent. Pure; knows the record
 * layout only through ShimMessage.
 */
import { TscError } from '../../base/errors.js';
import { errnoName } from '../../native/index.js';
import { SETUP_OPS, SETUP_STAGES, type LaunchSpec } from '../../native/launch-spec.js';
import type { ShimMessage } from './shim-client.js';

/** The init (or an exec) failed before execve. `exitCode` is what Docker reports: 125/126/127. */
export class SetupError extends TscError {
  constructor(
    message: string,
    /** 125 setup failure, 126 not executable, 127 not found (engine-reference §6.2). */
    readonly exitCode: number,
    /** Stage name from SETUP_STAGES (`mount`, `exec`, ...). */
    readonly stage: string,
    /** The failed call from SETUP_OPS (`mount`, `execve`, ...). */
    readonly syscall: string,
    /** The errno name (`ENOENT`). */
    readonly errno: string,
  ) {
    super('TSC_CHILD_SETUP', message);
  }
}

/** The container path of a host target under the rootfs. */
function containerPath(spec: LaunchSpec, target: string): string {
  if (spec.rootfs !== '' && target.startsWith(spec.rootfs))
    return target.slice(spec.rootfs.length) || '/';
  return target;
}

/** The message for an error record, naming the object from the spec entry at `arg`. */
export function renderSetupMessage(spec: LaunchSpec, m: ShimMessage): string {
  const code = errnoName(m.errno);
  const stage = SETUP_STAGES[m.stage] ?? `stage ${m.stage}`;
  const op = SETUP_OPS[m.op] ?? `op ${m.op}`;
  switch (stage) {
    case 'mount': {
      const mt = spec.mounts[m.arg];
      if (!mt) break;
      const dest = containerPath(spec, mt.target);
      if (op === 'mkdir') return `create mountpoint ${dest}: ${code}`;
      if (op === 'remount') return `remount ${dest}: ${code}`;
      if (op === 'propagation') return `set propagation of ${dest}: ${code}`;
      return `mount ${mt.source || mt.fstype} on ${dest}: ${code}`;
    }
    case 'device': {
      const d = spec.devices[m.arg];
      if (d) return `create device ${containerPath(spec, d.target)}: ${op}: ${code}`;
      break;
    }
    case 'symlink': {
      const l = spec.symlinks[m.arg];
      if (l) return `symlink ${containerPath(spec, l.path)} -> ${l.target}: ${code}`;
      break;
    }
    case 'readonly-path':
      return `make ${spec.readonlyPaths[m.arg] ?? '?'} read-only: ${code}`;
    case 'masked-path':
      return `mask ${spec.maskedPaths[m.arg] ?? '?'}: ${code}`;
    case 'sysctl':
      return `write sysctl ${spec.sysctls[m.arg]?.path ?? '?'}: ${code}`;
    case 'rlimit':
      return `setrlimit ${spec.rlimits[m.arg]?.resource ?? '?'}: ${code}`;
    case 'namespaces':
      if (op === 'setns' || op === 'open')
        return `join namespace ${spec.joins[m.arg]?.path ?? '?'}: ${code}`;
      return `${op} namespaces: ${code}`;
    case 'cgroup':
      return `join cgroup ${spec.cgroupProcs[m.arg] ?? '?'}: ${code}`;
    case 'user':
      return `set user ${spec.uid}:${spec.gid}: ${op}: ${code}`;
    case 'cwd':
      return `${op === 'mkdir' ? 'create' : 'change to'} working directory ${spec.cwd}: ${code}`;
    case 'pivot-root':
      return `pivot_root ${spec.rootfs}: ${op}: ${code}`;
    case 'exec': {
      const file = spec.argv[0] ?? '';
      if (op === 'exec-search') return `exec: "${file}": executable file not found in $PATH`;
      return `exec ${file}: ${code}`;
    }
    default:
      break;
  }
  return `${stage}: ${op}${m.arg >= 0 ? ` [${m.arg}]` : ''}: ${code}`;
}

/** A SetupError for an error record. */
export function toSetupError(spec: LaunchSpec, m: ShimMessage): SetupError {
  return new SetupError(
    renderSetupMessage(spec, m),
    m.exitCode,
    SETUP_STAGES[m.stage] ?? String(m.stage),
    SETUP_OPS[m.op] ?? String(m.op),
    errnoName(m.errno),
  );
}
