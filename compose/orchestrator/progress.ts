/**
 * Progress events the executor emits (one start and one end event per plan node), and their plain
 * and JSON line renderings. No terminal handling here: the CLI drives listr2 from these events.
 */

/** The resource family of an event, as docker compose names it in its progress output. */
export type ProgressKind = 'Image' | 'Network' | 'Volume' | 'Container' | 'Service';

/** Docker compose's progress words (pkg/progress). */
export type ProgressStatus =
  | 'Pulling'
  | 'Pulled'
  | 'Creating'
  | 'Created'
  | 'Starting'
  | 'Started'
  | 'Waiting'
  | 'Healthy'
  | 'Exited'
  | 'Stopping'
  | 'Stopped'
  | 'Removing'
  | 'Removed'
  | 'Skipped'
  | 'Error';

/** One progress event. */
export interface ProgressEvent {
  /** The plan node it belongs to. */
  readonly node: number;
  readonly kind: ProgressKind;
  /** Container, network, volume name or image reference. */
  readonly resource: string;
  readonly status: ProgressStatus;
  /** Milliseconds since the node started (0 on the start event). */
  readonly ms: number;
  /** Set on `Error`: the message. */
  readonly error?: string | undefined;
}

/** True for the statuses that end a node (the ones with a meaningful duration). */
export function isFinal(status: ProgressStatus): boolean {
  return !['Pulling', 'Creating', 'Starting', 'Waiting', 'Stopping', 'Removing'].includes(status);
}

/**
 * docker compose `--progress plain` style: ` Container demo-web-1  Started 0.3s`
 * (durations only on final statuses, seconds with one decimal).
 */
export function renderPlainEvent(e: ProgressEvent): string {
  const time = isFinal(e.status) && e.status !== 'Skipped' ? ` ${(e.ms / 1000).toFixed(1)}s` : '';
  const err = e.error !== undefined ? ` ${e.error}` : '';
  return ` ${e.kind} ${e.resource}  ${e.status}${time}${err}`;
}

/** `--progress json`: one JSON object per line, keys in a fixed order. */
export function renderJsonEvent(e: ProgressEvent): string {
  return JSON.stringify({
    node: e.node,
    kind: e.kind,
    resource: e.resource,
    status: e.status,
    ms: e.ms,
    ...(e.error !== undefined ? { error: e.error } : {}),
  });
}
