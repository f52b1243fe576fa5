/**
 * The plan: operations as data, nodes of a DAG, and the one-line-per-node text rendering that tests
 * assert against (docker compose pkg/compose/plan.go). No decisions here (reconcile.ts decides) and
 * no API calls (execute.ts runs it).
 */
import type { NetworkCreateOptions, VolumeCreateOptions } from 'dockerode';

import type { ContainerSpec } from './translate.js';

/** A container as plan operations name it: its service, replica number and engine name. */
export interface ContainerRef {
  /** Service key (label `com.docker.compose.service`). */
  readonly service: string;
  /** 1-based replica number (label `com.docker.compose.container-number`). */
  readonly replica: number;
  /** Engine container name (`<project>-<service>-<n>` or container_name). */
  readonly name: string;
  /** Engine id, for containers that exist already (observed); API calls prefer it to the name. */
  readonly id?: string | undefined;
}

/** A `depends_on` condition a wait node enforces. */
export type DependencyCondition =
  'service_started' | 'service_healthy' | 'service_completed_successfully';

/**
 * One operation = one Docker Engine API call (create-container also connects its extra networks).
 * Kinds are kebab-case and stable: they appear in the golden plan text.
 */
export type Op =
  | { readonly kind: 'pull-image'; readonly ref: string; readonly platform?: string | undefined }
  | { readonly kind: 'create-network'; readonly name: string; readonly body: NetworkCreateOptions }
  | { readonly kind: 'create-volume'; readonly name: string; readonly body: VolumeCreateOptions }
  | {
      readonly kind: 'create-container';
      readonly container: ContainerRef;
      readonly spec: ContainerSpec;
    }
  | { readonly kind: 'start-container'; readonly container: ContainerRef }
  | {
      readonly kind: 'stop-container';
      readonly container: ContainerRef;
      /** Seconds to wait before SIGKILL (`-t`, or stop_grace_period); undefined = engine default. */
      readonly timeoutS?: number | undefined;
    }
  | {
      readonly kind: 'remove-container';
      readonly container: ContainerRef;
      /** Also remove anonymous volumes (`down -v`, or rm -v). */
      readonly volumes: boolean;
    }
  | {
      readonly kind: 'wait-service';
      /** The dependency service whose containers are waited on. */
      readonly service: string;
      readonly condition: DependencyCondition;
      /** Names of the dependency's containers, all of which must meet the condition. */
      readonly containers: readonly string[];
      /** Whether the dependency is `required` (docker compose only warns for optional ones). */
      readonly required: boolean;
    }
  | { readonly kind: 'remove-network'; readonly name: string }
  | { readonly kind: 'remove-volume'; readonly name: string }
  | { readonly kind: 'remove-image'; readonly ref: string };

/** Every Op kind. */
export type OpKind = Op['kind'];

/** A node of the plan DAG. */
export interface PlanNode {
  /** 1-based, assigned in topological order (every `after` id is smaller). */
  readonly id: number;
  readonly op: Op;
  /** Why: `missing`, `config changed`, `orphan`, `scale down`, `created`, ... */
  readonly cause: string;
  /** Ids of the nodes that must finish first. */
  readonly after: readonly number[];
}

/** A plan: its nodes in id order, and what the CLI should warn about. */
export interface Plan {
  readonly nodes: readonly PlanNode[];
  /** Names of orphan containers found and left alone (docker compose warns about them). */
  readonly orphans: readonly string[];
}

/** The short description of an operation used in plan text. */
export function describeOp(op: Op): string {
  switch (op.kind) {
    case 'pull-image':
      return `pull-image ${op.ref}`;
    case 'create-network':
    case 'create-volume':
    case 'remove-network':
    case 'remove-volume':
      return `${op.kind} ${op.name}`;
    case 'create-container':
    case 'start-container':
    case 'stop-container':
    case 'remove-container':
      return `${op.kind} ${op.container.service}#${op.container.replica}`;
    case 'wait-service':
      return `wait-service ${op.service} ${op.condition}`;
    case 'remove-image':
      return `remove-image ${op.ref}`;
  }
}

/** One line per node: `#3 [1,2] create-container web#1 (missing)`. Stable across runs. */
export function renderPlan(nodes: readonly PlanNode[]): string {
  return nodes
    .map(
      (n) =>
        `#${n.id} [${[...n.after].sort((a, b) => a - b).join(',')}] ${describeOp(n.op)} (${n.cause})`,
    )
    .join('\n');
}

/** Builds a plan in topological order: `add` returns the new node's id. */
export class PlanBuilder {
  private readonly list: PlanNode[] = [];

  /** Appends a node after the given ids (duplicates and undefined dropped). */
  add(op: Op, cause: string, after: Iterable<number | undefined> = []): number {
    const id = this.list.length + 1;
    const deps = [...new Set([...after].filter((x): x is number => x !== undefined))].sort(
      (a, b) => a - b,
    );
    this.list.push({ id, op, cause, after: deps });
    return id;
  }

  /** The nodes so far, in id order. */
  get nodes(): readonly PlanNode[] {
    return this.list;
  }
}
