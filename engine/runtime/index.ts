/**
 * engine/runtime: the public face of the container runtime (launch, kill/stop, exec, exit
 * records, LaunchSpec building). Other engine modules import from here only.
 */
export {
  exec,
  startExec,
  cgroupProcsOf,
  type ExecOptions,
  type ExecProcess,
  type ExecResult,
} from './exec.js';
export { isAlive, parseExitRecord, readExitRecord, waitForExit, type ExitRecord } from './exit.js';
export {
  createLaunchSpec,
  DEFAULT_INIT_BINARY,
  gatherHostFacts,
  hostCapabilities,
  launch,
  prespawnShim,
  type LaunchedContainer,
  type LaunchOptions,
} from './launch.js';
export { SetupError, renderSetupMessage, toSetupError } from './setup-error.js';
export { StdinPipe } from './stdin.js';
export { parseShimMessage, type ShimMessage } from './shim-client.js';
export {
  buildExecSpec,
  buildLaunchSpec,
  DEFAULT_CAPABILITIES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_PATH,
  DEFAULT_READONLY_PATHS,
  DOCKER_INIT_PATH,
  oomCounter,
  resolveCapabilities,
  stateFiles,
  type BindMount,
  type CgroupPlacement,
  type HostFacts,
  type NamespaceConfig,
  type Propagation,
  type RuntimeConfig,
  type TmpfsMount,
} from './spec.js';
export {
  DEFAULT_STOP_TIMEOUT_MS,
  kill,
  stop,
  type SignalTarget,
  type StopOptions,
} from './stop.js';
export {
  parseGroup,
  parsePasswd,
  resolveUser,
  resolveUserFrom,
  type ResolvedUser,
} from './user.js';
