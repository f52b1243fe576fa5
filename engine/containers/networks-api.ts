/**
 * The NetworkService of the Engine API over the persisted NetworkManager: list (filters), inspect,
 * create, remove, connect, disconnect, prune, with network events. Docker's predefined networks
 * (`bridge`, `host`, `none`) cannot be removed. Shapes only; network rules live in engine/networks.
 */
import { createHash } from 'node:crypto';

import type Dockerode from 'dockerode';

import { EngineError } from '../../base/errors.js';
import type { ApiFilters, NetworkService, OperationContext } from '../api/services.js';
import type { EventBus } from '../events.js';
import type { NetworkCreateRequest, NetworkInspect } from '../networks/index.js';
import { DEFAULT_NETWORK, type EngineNetworks } from './networking.js';
import type { ContainerManager } from './service.js';

/** Docker's predefined networks without a bridge: `host` (driver host) and `none` (driver null). */
const PSEUDO = [
  ['host', 'host'],
  ['none', 'null'],
] as const;

/** The inspect view of a predefined pseudo network (stable id from its name). */
function pseudoNetwork([name, driver]: readonly [string, string]): NetworkInspect {
  return {
    Name: name,
    Id: createHash('sha256').update(`tscompose-network-${name}`).digest('hex'),
    Created: '0001-01-01T00:00:00Z',
    Scope: 'local',
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    Containers: {},
    Options: {},
    Labels: {},
  };
}

/** Names Docker predefines. */
const PREDEFINED = new Set([DEFAULT_NETWORK, 'host', 'none']);

function matches(n: NetworkInspect, filters: ApiFilters): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    switch (key) {
      case 'name':
        if (!values.some((v) => n.Name.includes(v))) return false;
        break;
      case 'id':
        if (!values.some((v) => n.Id.startsWith(v))) return false;
        break;
      case 'driver':
        if (!values.includes(n.Driver)) return false;
        break;
      case 'scope':
        if (!values.includes(n.Scope)) return false;
        break;
      case 'type':
        if (!values.some((v) => (v === 'builtin') === PREDEFINED.has(n.Name))) return false;
        break;
      case 'dangling':
        if (!values.some((v) => (v === 'true') === (Object.keys(n.Containers).length === 0)))
          return false;
        break;
      case 'label':
        if (
          !values.every((v) => {
            const i = v.indexOf('=');
            return i < 0 ? v in n.Labels : n.Labels[v.slice(0, i)] === v.slice(i + 1);
          })
        )
          return false;
        break;
      default:
        throw new EngineError(
          'TSC_ENGINE_INVALID',
          { kind: 'filter', name: key },
          `invalid filter '${key}'`,
        );
    }
  }
  return true;
}

/** The Engine API network operations. */
export class EngineNetworkService implements NetworkService {
  constructor(
    private readonly networks: EngineNetworks,
    private readonly containers: ContainerManager,
    private readonly events: EventBus,
  ) {}

  async NetworkList(
    filters: ApiFilters,
    _ctx: OperationContext,
  ): Promise<Dockerode.NetworkInspectInfo[]> {
    await this.networks.ensureDefault();
    const all = [...this.networks.manager.list(), ...PSEUDO.map(pseudoNetwork)];
    return all
      .filter((n) => matches(n, filters))
      .sort((a, b) => a.Name.localeCompare(b.Name)) as unknown as Dockerode.NetworkInspectInfo[];
  }

  async NetworkInspect(
    id: string,
    _q: { verbose: boolean; scope?: string },
    _ctx: OperationContext,
  ): Promise<Dockerode.NetworkInspectInfo> {
    if (id === DEFAULT_NETWORK) await this.networks.ensureDefault();
    const pseudo = PSEUDO.map(pseudoNetwork).find((n) => n.Name === id || n.Id === id);
    if (pseudo) return pseudo as unknown as Dockerode.NetworkInspectInfo;
    return this.networks.manager.inspect(id) as unknown as Dockerode.NetworkInspectInfo;
  }

  async NetworkCreate(
    body: Omit<Dockerode.NetworkCreateOptions, 'abortSignal'>,
    _ctx: OperationContext,
  ): Promise<{ Id: string; Warning: string }> {
    if (typeof body.Name !== 'string' || body.Name === '')
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'network', name: '' },
        'network name cannot be empty',
      );
    if (PREDEFINED.has(body.Name))
      throw new EngineError(
        'TSC_ENGINE_CONFLICT',
        { kind: 'network', name: body.Name },
        `${body.Name} is a pre-defined network and cannot be created`,
      );
    const r = await this.networks.manager.create(body as unknown as NetworkCreateRequest);
    await this.networks.persist();
    this.events.publish({
      Type: 'network',
      Action: 'create',
      ID: r.Id,
      Attributes: { name: body.Name, type: body.Driver ?? 'bridge' },
    });
    return r;
  }

  async NetworkDelete(id: string, _ctx: OperationContext): Promise<void> {
    const n = this.networks.manager.inspect(id);
    if (PREDEFINED.has(n.Name))
      throw new EngineError(
        'TSC_ENGINE_INVALID',
        { kind: 'network', name: n.Name },
        `${n.Name} is a pre-defined network and cannot be removed`,
      );
    await this.networks.manager.remove(n.Id);
    await this.networks.persist();
    this.events.publish({
      Type: 'network',
      Action: 'destroy',
      ID: n.Id,
      Attributes: { name: n.Name, type: n.Driver },
    });
  }

  async NetworkConnect(
    id: string,
    body: { Container: string; EndpointConfig?: Record<string, unknown> },
    _ctx: OperationContext,
  ): Promise<void> {
    await this.containers.networkConnect(body.Container, id, body.EndpointConfig ?? {});
  }

  async NetworkDisconnect(
    id: string,
    body: { Container: string; Force?: boolean },
    _ctx: OperationContext,
  ): Promise<void> {
    await this.containers.networkDisconnect(body.Container, id);
  }

  async NetworkPrune(
    filters: ApiFilters,
    ctx: OperationContext,
  ): Promise<Dockerode.PruneNetworksInfo> {
    const deleted: string[] = [];
    for (const n of this.networks.manager.list()) {
      if (PREDEFINED.has(n.Name) || Object.keys(n.Containers).length > 0) continue;
      if (!matches(n, filters.label ? { label: filters.label } : {})) continue;
      await this.NetworkDelete(n.Id, ctx);
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }
}
