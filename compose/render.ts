/**
 * `docker compose config` output of a normalised Project: YAML or JSON with docker compose v2's
 * key order (compose-go struct order; user maps sorted), `$` re-escaped as `$$`, JSON without
 * nested `x-*` and without opt-out defaults. Pure text out; never writes anywhere.
 */
import { stringify } from 'yaml';

import type { Project } from './model.js';

/** How a node is ordered: a struct (fixed key order), a user map, a list, or a leaf. */
type Shape =
  | { readonly struct: readonly string[]; readonly fields?: Readonly<Record<string, Shape>> }
  | { readonly map: Shape }
  | { readonly list: Shape }
  | 'leaf'
  | 'bytes'
  | 'mode';

const leaf = 'leaf' as const;
const stringMap: Shape = { map: leaf };
const list = (item: Shape): Shape => ({ list: item });
const map = (value: Shape): Shape => ({ map: value });
const struct = (keys: string, fields: Record<string, Shape> = {}): Shape => ({
  struct: keys.split(/\s+/).filter(Boolean),
  fields,
});

/** Bytes print as decimal strings (compose-go `UnitBytes`), modes as octal strings (`FileMode`). */
const bytes = 'bytes' as const;
const fileRef = struct('source target uid gid mode', { mode: 'mode' });
const ulimits = map(struct('single soft hard'));
const extraHosts = list(leaf);
const serviceHook = struct('command image user privileged working_dir environment per_replica', {
  environment: stringMap,
});
const resource = struct('cpus memory pids devices generic_resources', {
  memory: bytes,
  devices: list(struct('capabilities driver count device_ids options', { options: stringMap })),
});
const updateConfig = struct('parallelism delay failure_action monitor max_failure_ratio order');

const SERVICE = struct(
  `name profiles annotations attach build develop blkio_config cap_add cap_drop cgroup_parent
   cgroup cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpus cpuset
   cpu_shares command configs container_name credential_spec depends_on deploy
   device_cgroup_rules devices dns dns_opt dns_search dockerfile domainname entrypoint provider
   environment env_file expose extends external_links extra_hosts group_add gpus hostname
   healthcheck image init ipc isolation labels label_file links logging log_driver log_opt
   mem_limit mem_reservation memswap_limit mem_swappiness mac_address models net network_mode
   networks oom_kill_disable oom_score_adj pid pids_limit platform ports privileged pull_policy
   read_only restart runtime scale secrets security_opt shm_size stdin_open stop_grace_period
   stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts
   volume_driver volumes volumes_from working_dir pre_start post_start pre_stop`,
  {
    annotations: stringMap,
    build: struct(
      `context dockerfile dockerfile_inline entitlements args provenance sbom ssh labels
       cache_from cache_to no_cache no_cache_filter additional_contexts pull extra_hosts
       isolation network target secrets shm_size tags ulimits platforms privileged`,
      {
        args: stringMap,
        labels: stringMap,
        additional_contexts: stringMap,
        extra_hosts: extraHosts,
        secrets: list(fileRef),
        shm_size: bytes,
        ulimits,
      },
    ),
    develop: struct('watch', {
      watch: list(
        struct('path action target exec include ignore initial_sync', { exec: serviceHook }),
      ),
    }),
    blkio_config: struct(
      'weight weight_device device_read_bps device_read_iops device_write_bps device_write_iops',
    ),
    configs: list(fileRef),
    depends_on: map(struct('condition restart required')),
    deploy: struct(
      `mode replicas labels update_config rollback_config resources restart_policy placement
       endpoint_mode`,
      {
        labels: stringMap,
        update_config: updateConfig,
        rollback_config: updateConfig,
        resources: struct('limits reservations', { limits: resource, reservations: resource }),
        restart_policy: struct('condition delay max_attempts window'),
        placement: struct('constraints preferences max_replicas_per_node'),
      },
    ),
    devices: list(struct('source target permissions')),
    environment: stringMap,
    env_file: list(struct('path required format')),
    extends: struct('file service'),
    extra_hosts: extraHosts,
    healthcheck: struct('test timeout interval retries start_period start_interval disable'),
    labels: stringMap,
    logging: struct('driver options', { options: stringMap }),
    networks: map(
      struct(
        `aliases driver_opts gw_priority interface_name ipv4_address ipv6_address link_local_ips
         mac_address priority`,
        { driver_opts: stringMap },
      ),
    ),
    ports: list(struct('name mode host_ip target published protocol app_protocol')),
    secrets: list(fileRef),
    storage_opt: stringMap,
    sysctls: stringMap,
    ulimits,
    mem_limit: bytes,
    mem_reservation: bytes,
    memswap_limit: bytes,
    mem_swappiness: bytes,
    shm_size: bytes,
    volumes: list(
      struct('type source target read_only consistency bind volume tmpfs image', {
        bind: struct('selinux propagation create_host_path recursive'),
        volume: struct('labels nocopy subpath', { labels: stringMap }),
        tmpfs: struct('size mode', { size: bytes }),
        image: struct('subpath'),
      }),
    ),
    pre_start: list(serviceHook),
    post_start: list(serviceHook),
    pre_stop: list(serviceHook),
  },
);

const NETWORK = struct(
  'name driver driver_opts ipam external internal attachable labels enable_ipv4 enable_ipv6',
  {
    driver_opts: stringMap,
    ipam: struct('driver config options', {
      config: list(struct('subnet gateway ip_range aux_addresses', { aux_addresses: stringMap })),
      options: stringMap,
    }),
    labels: stringMap,
  },
);
const VOLUME = struct('name driver driver_opts external labels', {
  driver_opts: stringMap,
  labels: stringMap,
});
const FILE_OBJECT = struct(
  'name file environment content external labels driver driver_opts template_driver',
  { labels: stringMap, driver_opts: stringMap },
);
const MODEL = struct('name model context_size runtime_flags');

const PROJECT = struct('name services networks volumes secrets configs models', {
  services: map(SERVICE),
  networks: map(NETWORK),
  volumes: map(VOLUME),
  secrets: map(FILE_OBJECT),
  configs: map(FILE_OBJECT),
  models: map(MODEL),
});

/**
 * Struct fields compose-go prints even when zero (pointers or fields without `omitempty`);
 * every other struct field is left out when false, 0 or ''.
 */
const KEEP_ZERO = new Set([
  'init',
  'attach',
  'enable_ipv4',
  'enable_ipv6',
  'retries',
  'scale',
  'replicas',
  'max_attempts',
  'required',
  'use_api_socket',
]);

function isZero(v: unknown): boolean {
  return v === false || v === 0 || v === '';
}

const OLD_BOOL = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;

/** go-yaml v3 quotes strings a YAML 1.1 reader would take for a bool or a base-60 float. */
function needsGoQuotes(s: string): boolean {
  return OLD_BOOL.test(s) || BASE60_FLOAT.test(s);
}

const RESERVED_PLAIN =
  /^(?:null|Null|NULL|~|true|True|TRUE|false|False|FALSE|\.inf|\.Inf|\.INF|-\.inf|\.nan|\.NaN|\.NAN)$/;
const SAFE_PLAIN = /^[A-Za-z_/.$][\w./@+=,%$()-]*(?:[ :][\w./@+=,%$()-]+)*$/;
const NUMBER_LIKE = /^[-+]?(?:\.?[0-9]|0[xob])/;

/** A scalar as go-yaml v3 writes it (plain when unambiguous, else double-quoted). */
function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (needsGoQuotes(s)) return JSON.stringify(s);
  if (SAFE_PLAIN.test(s) && !RESERVED_PLAIN.test(s) && !NUMBER_LIKE.test(s) && !s.includes(': ')) {
    return s;
  }
  // strings a YAML reader would take for another type are double-quoted; other strings that
  // cannot be plain are single-quoted (go-yaml v3's emitter)
  if (resolvesToOtherType(s)) return JSON.stringify(s);
  const plain = stringify(s, { lineWidth: 0, minContentWidth: 0, version: '1.1' }).trimEnd();
  if (plain.startsWith('"') || plain.startsWith("'")) return `'${s.replaceAll("'", "''")}'`;
  return plain;
}

const OTHER_TYPE = [
  /^(?:|~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$/,
  /^[-+]?(?:0|[1-9][0-9_]*)$/,
  /^[-+]?0[0-7_]+$/,
  /^[-+]?0o[0-7_]+$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?0b[01_]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
  /^\d{4}-\d\d?-\d\d?(?:[Tt ]\d\d?:\d\d:\d\d(?:\.\d*)?(?:Z|[-+]\d\d?(?::\d\d)?)?)?$/,
];

/** True when go-yaml would resolve the plain scalar to a non-string (null, bool, number, time). */
function resolvesToOtherType(s: string): boolean {
  return OTHER_TYPE.some((re) => re.test(s));
}

/** A multi-line string as a literal block (`|-`, `|`, `|+`), lines indented by `pad`. */
function literalBlock(s: string, pad: string): string[] {
  const trailing = /\n*$/.exec(s)?.[0].length ?? 0;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const indicator = s.startsWith(' ') ? String(2) : '';
  const body = trailing === 0 ? s : s.slice(0, s.length - trailing);
  const lines = body.split('\n').map((l) => (l === '' ? '' : `${pad}${l}`));
  for (let i = 1; i < trailing; i++) lines.push('');
  return [`|${indicator}${chomp}`, ...lines];
}

function isMultiline(v: unknown): v is string {
  return typeof v === 'string' && v.includes('\n');
}

function emitValue(key: string, v: unknown, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) out.push(`${pad}${key} []`);
    else {
      out.push(`${pad}${key}`);
      emitList(v, indent + 2, out);
    }
  } else if (isObject(v)) {
    if (Object.keys(v).length === 0) out.push(`${pad}${key} {}`);
    else {
      out.push(`${pad}${key}`);
      emitMap(v, indent + 2, out);
    }
  } else if (isMultiline(v)) {
    const [head, ...rest] = literalBlock(v, ' '.repeat(indent + 2));
    out.push(`${pad}${key} ${head ?? ''}`, ...rest);
  } else out.push(`${pad}${key} ${yamlScalar(v)}`);
}

function emitMap(m: Record<string, unknown>, indent: number, out: string[]): void {
  for (const [k, v] of Object.entries(m)) emitValue(`${yamlScalar(k)}:`, v, indent, out);
}

function emitList(list: readonly unknown[], indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  for (const item of list) {
    if (
      (isObject(item) && Object.keys(item).length > 0) ||
      (Array.isArray(item) && item.length > 0)
    ) {
      const start = out.length;
      if (Array.isArray(item)) emitList(item, indent + 2, out);
      else emitMap(item, indent + 2, out);
      out[start] = `${pad}- ${(out[start] ?? '').slice(indent + 2)}`;
    } else emitValue('-', item, indent, out);
  }
}

/** The YAML text of an arranged tree (go-yaml v3 with indent 2, sequences indented). */
function emitYaml(tree: Record<string, unknown>): string {
  const out: string[] = [];
  emitMap(tree, 0, out);
  return `${out.join('\n')}\n`;
}

interface RenderContext {
  readonly json: boolean;
  readonly escape: boolean;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sortedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort();
}

/** Re-orders a value by its shape; leaves keep their content (strings `$`-escaped). */
function arrange(v: unknown, shape: Shape, ctx: RenderContext, nested: boolean): unknown {
  if (typeof v === 'number' && shape === 'bytes') return String(v);
  if (typeof v === 'number' && shape === 'mode') return `0${v.toString(8)}`;
  if (typeof v === 'string') return ctx.escape ? v.replaceAll('$', '$$$$') : v;
  if (Array.isArray(v)) {
    const item = typeof shape === 'object' && 'list' in shape ? shape.list : leaf;
    return v.map((x) => arrange(x, item, ctx, nested));
  }
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  if (typeof shape === 'object' && 'struct' in shape) {
    const known = new Set(shape.struct);
    for (const k of shape.struct) {
      if (!Object.hasOwn(v, k) || v[k] === undefined) continue;
      if (isZero(v[k]) && !KEEP_ZERO.has(k)) continue;
      out[k] = arrange(v[k], shape.fields?.[k] ?? leaf, ctx, true);
    }
    for (const k of sortedKeys(v)) {
      if (known.has(k) || v[k] === undefined) continue;
      // extensions of nested objects are not part of `config --format json`
      if (ctx.json && nested && k.startsWith('x-')) continue;
      out[k] = arrange(v[k], leaf, ctx, true);
    }
    return out;
  }
  const value = typeof shape === 'object' && 'map' in shape ? shape.map : leaf;
  for (const k of sortedKeys(v)) out[k] = arrange(v[k], value, ctx, nested);
  return out;
}

/**
 * Drops the opt-out fields YAML leaves out when true (compose-go `OptOut`: `create_host_path`,
 * `env_file[].required`); JSON keeps them, as `config --format json` of docker compose prints them.
 */
function dropOptOuts(services: Record<string, unknown>): void {
  for (const svc of Object.values(services)) {
    if (!isObject(svc)) continue;
    if (Array.isArray(svc.volumes)) {
      for (const vol of svc.volumes) {
        if (!isObject(vol) || !isObject(vol.bind)) continue;
        if (vol.bind.create_host_path === true) delete vol.bind.create_host_path;
      }
    }
    if (Array.isArray(svc.env_file)) {
      for (const e of svc.env_file) if (isObject(e) && e.required === true) delete e.required;
    }
  }
}

/** Options of {@link renderConfig}. */
export interface RenderOptions {
  readonly format: 'yaml' | 'json';
  /** Re-escape `$` as `$$` (docker compose does, unless `--no-interpolate`). Default true. */
  readonly escapeDollar?: boolean;
}

/**
 * Renders a normalised project as `docker compose config` prints it (docker/compose
 * `cmd/compose/config.go`, compose-go `Project.MarshalYAML`/`MarshalJSON`):
 * - YAML: `name`, `services`, `networks`, `volumes`, `secrets`, `configs`, `models`, then top-level
 *   `x-*`; service keys in compose-go's struct order; user maps (services, environment, labels)
 *   sorted; 2-space indent; `x-*` kept everywhere.
 * - JSON: 2-space indented; top-level keys sorted (Go map), nested `x-*` and opt-out fields
 *   (`bind.create_host_path: true`, `env_file[].required: true`) left out.
 * Every `$` in a string is written `$$` so the output loads back to the same project.
 * @returns the text, ending with a newline
 */
export function renderConfig(p: Project, o: RenderOptions): string {
  const ctx: RenderContext = { json: o.format === 'json', escape: o.escapeDollar !== false };
  const arranged = arrange(p, PROJECT, ctx, false) as Record<string, unknown>;
  for (const k of ['networks', 'volumes', 'secrets', 'configs', 'models']) {
    const section = arranged[k];
    if (isObject(section) && Object.keys(section).length === 0) delete arranged[k];
  }
  if (!ctx.json && isObject(arranged.services)) dropOptOuts(arranged.services);
  if (ctx.json) {
    const top: Record<string, unknown> = {};
    for (const k of sortedKeys(arranged)) top[k] = arranged[k];
    return `${JSON.stringify(top, null, 2)}\n`;
  }
  return emitYaml(arranged);
}
