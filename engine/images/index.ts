/**
 * Public face of the image subsystem: the ImageStore and the operations and types the rest of
 * the engine (container creation, the API server) uses. Nothing here has behaviour of its own.
 */
export { ImageStore } from './store.js';
export type {
  ImageDeleteItem,
  ImageInspect,
  ImageRecord,
  ImageStoreOptions,
  ImageSummary,
  PullOptions,
  RemoveOptions,
} from './store.js';
export { importImage, loadImages, parseChanges, saveImages } from './archive.js';
export type { ImportOptions } from './archive.js';
export {
  familiarName,
  familiarString,
  parseReference,
  renderReference,
  type ImageReference,
} from './reference.js';
export {
  RegistryClient,
  dockerConfigCredentials,
  parseRegistryConfig,
  type Credentials,
  type RegistryClientOptions,
  type RegistryConfig,
  type TransferProgress,
} from './registry.js';
export type { Mount, SnapshotDriver } from './snapshot.js';
export type { HostOps } from './host-ops.js';
export { shellHostOps } from './host-ops.js';
export type { HealthConfig, ImageConfig, ImageRuntimeConfig, Platform } from './oci.js';
export { DEFAULT_STATE_ROOT } from './content-store.js';
