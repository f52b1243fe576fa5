/**
 * Short syntax -> long syntax on the merged raw tree (compose-go's transform step): ports,
 * volumes, environment/labels lists, depends_on lists, build strings, ulimits, devices, networks
 * lists, secrets/configs strings, env_file, healthcheck test strings, units. A table of path
 * patterns -> rules. Pure: returns a new tree, never resolves paths or reads files.
 */
import { isIP } from 'node:net';

import { ComposeError, type ComposeIssue } from '../base/errors.js';
import { isRawMap, type RawMap, type RawValue, type TreePath } from './raw.js';
import { dottedPath } from './schema/index.js';
import { normalizeDuration, parseBytes } from './units.js';

/** Collects problems found while rewriting; thrown together at the end. */
interface Ctx {
  readonly issues: ComposeIssue[];
}

function fail(ctx: Ctx, path: TreePath, detail: string): void {
  ctx.issues.push({ file: '', path: dottedPath(path), detail });
}

/** Scalar -> string the way compose-go stringifies YAML scalars (`true`, `1`, `1.5`). */
export function scalarString(v: RawValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** `KEY=VAL` list or map -> map; `KEY` alone maps to `bare` (null for environment, '' for labels). */
function listOrDict(ctx: Ctx, v: RawValue, path: TreePath, bare: null | ''): RawMap {
  const out: RawMap = {};
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = scalarString(item);
      const eq = s.indexOf('=');
      const key = eq < 0 ? s : s.slice(0, eq);
      if (key === '__proto__') {
        fail(ctx, [...path, i], 'key "__proto__" is not supported');
        return;
      }
      if (bare === null && key !== key.trimEnd()) {
        fail(ctx, [...path, i], `environment variable ${key} is declared with a trailing space`);
      }
      out[key] = eq < 0 ? bare : s.slice(eq + 1);
    });
    return out;
  }
  if (isRawMap(v)) {
    for (const [k, val] of Object.entries(v)) {
      out[k] = val === null ? bare : scalarString(val);
    }
    return out;
  }
  return out;
}

/**
 * Splits a command string like a POSIX shell (quotes, backslashes), as compose-go's shellwords.
 * @returns the words, or undefined for an unterminated quote (shellwords' `invalid command line
 *   string`)
 */
export function shellSplit(s: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s.charAt(i + 1))) {
        cur += s.charAt(++i);
      } else cur += c;
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += s.charAt(++i);
      has = true;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote !== undefined) return undefined;
  if (has) out.push(cur);
  return out;
}

function stringList(v: RawValue): RawValue {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : scalarString(x)));
  return v;
}

/** A byte size (`512m`, `1gb`, 1024) as a number of bytes; -1 stays -1 (unlimited). */
function bytesValue(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (typeof v === 'number' && v < 0) return v;
  if (typeof v !== 'string' && typeof v !== 'number') return v;
  if (v === '-1') return -1;
  const n = parseBytes(v);
  if (n === undefined) {
    fail(ctx, path, `invalid size: '${String(v)}'`);
    return v;
  }
  return n;
}

function durationValue(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (typeof v !== 'string' && typeof v !== 'number') return v;
  const d = normalizeDuration(v);
  if (d === undefined) {
    fail(ctx, path, `invalid duration: '${String(v)}'`);
    return v;
  }
  return d;
}

function numberValue(v: RawValue): RawValue {
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return v;
}

/**
 * A number field (`cpus`, `scale`, ...) checked like compose-go's decode: a numeric string becomes
 * a number; text that is not a number, a non-finite value, or (for `integer`) a value that is not
 * a whole number within 64-bit range is reported (`'many' is not a valid number`).
 */
function checkedNumber(ctx: Ctx, v: RawValue, path: TreePath, integer: boolean): RawValue {
  const n = numberValue(v);
  if (typeof n !== 'number' && typeof n !== 'string') return n;
  const kind = integer ? 'integer' : 'number';
  const ok =
    typeof n === 'number' &&
    Number.isFinite(n) &&
    (!integer || (Number.isInteger(n) && Math.abs(n) <= Number.MAX_SAFE_INTEGER));
  if (!ok) fail(ctx, path, `'${typeof v === 'string' ? v : String(n)}' is not a valid ${kind}`);
  return n;
}

function boolValue(v: RawValue): RawValue {
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if (['true', 'yes', 'y', 'on', '1'].includes(l)) return true;
    if (['false', 'no', 'n', 'off', '0'].includes(l)) return false;
  }
  return v;
}

/** A file mode as a number; strings are octal (`"0440"`, `"440"`). */
function modeValue(v: RawValue): RawValue {
  if (typeof v === 'string' && /^0?[0-7]+$/.test(v)) return parseInt(v, 8);
  return v;
}

// ---------------------------------------------------------------------------------------------
// ports

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

function splitHostIp(spec: string): { ip: string | undefined; rest: string } {
  if (spec.startsWith('[')) {
    const end = spec.indexOf(']');
    if (end > 0) {
      const rest = spec.slice(end + 1);
      return { ip: spec.slice(1, end), rest: rest.startsWith(':') ? rest.slice(1) : rest };
    }
  }
  const parts = spec.split(':');
  if (parts.length >= 3) {
    const ip = parts.slice(0, parts.length - 2).join(':');
    return { ip, rest: parts.slice(-2).join(':') };
  }
  return { ip: undefined, rest: spec };
}

/** `N` or `N-M` with both ends 0..65535 (Go's `ParseUint(s, 10, 16)`), checked before expanding. */
function parseRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (b < a || a > 65535 || b > 65535) return undefined;
  return [a, b];
}

/**
 * Expands one short port spec (`[host_ip:][published:]target[/protocol]`, ranges, `[::1]:80:80`)
 * into long-syntax entries (docker's nat.ParsePortSpecs semantics).
 */
export function parsePortSpec(spec: string): RawMap[] | string {
  let body = spec;
  let protocol = 'tcp';
  const slash = body.lastIndexOf('/');
  if (slash >= 0) {
    protocol = body.slice(slash + 1).toLowerCase();
    body = body.slice(0, slash);
    if (!PROTOCOLS.has(protocol)) return `invalid proto: ${protocol}`;
  }
  const { ip, rest } = splitHostIp(body);
  if (ip !== undefined && ip !== '' && isIP(ip) === 0) return `invalid IP address: ${ip}`;
  const colon = rest.lastIndexOf(':');
  const publishedText = colon >= 0 ? rest.slice(0, colon) : '';
  const targetText = colon >= 0 ? rest.slice(colon + 1) : rest;
  const target = parseRange(targetText);
  if (!target) return `invalid containerPort: ${targetText}`;
  const published = publishedText === '' ? undefined : parseRange(publishedText);
  if (publishedText !== '' && !published) return `invalid hostPort: ${publishedText}`;
  const count = target[1] - target[0] + 1;
  const base = (t: number): RawMap => {
    const m: RawMap = { mode: 'ingress' };
    if (ip !== undefined && ip !== '') m.host_ip = ip;
    m.target = t;
    return m;
  };
  const out: RawMap[] = [];
  if (published && published[1] - published[0] + 1 === count && count > 1) {
    for (let i = 0; i < count; i++) {
      out.push({ ...base(target[0] + i), published: String(published[0] + i), protocol });
    }
  } else if (published && count === 1) {
    const p =
      published[0] === published[1] ? String(published[0]) : `${published[0]}-${published[1]}`;
    out.push({ ...base(target[0]), published: p, protocol });
  } else if (published) {
    return `invalid ranges specified for container and host Ports: ${targetText} and ${publishedText}`;
  } else {
    for (let t = target[0]; t <= target[1]; t++) out.push({ ...base(t), protocol });
  }
  return out;
}

function ports(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!Array.isArray(v)) return v;
  const out: RawValue[] = [];
  v.forEach((item, i) => {
    if (typeof item === 'number' || typeof item === 'string') {
      const r = parsePortSpec(String(item));
      if (typeof r === 'string') fail(ctx, [...path, i], r);
      else out.push(...r);
    } else if (isRawMap(item)) {
      const m: RawMap = {};
      if (item.name !== undefined) m.name = item.name;
      m.mode = item.mode ?? 'ingress';
      if (item.host_ip !== undefined) m.host_ip = item.host_ip;
      if (item.target !== undefined) m.target = numberValue(item.target);
      if (item.published !== undefined && item.published !== null) {
        m.published = scalarString(item.published);
      }
      m.protocol = item.protocol ?? 'tcp';
      for (const [k, x] of Object.entries(item)) if (!(k in m)) m[k] = x;
      out.push(m);
    } else out.push(item);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// volumes

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

function isWindowsPath(s: string): boolean {
  return /^[a-zA-Z]:[\\/]/.test(s) || /^[a-zA-Z]:$/.test(s) || s.startsWith('\\\\');
}

function splitVolumeSpec(spec: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < spec.length; i++) {
    const c = spec.charAt(i);
    if (c === ':') {
      // a drive letter (`c:\`, `c:/`) belongs to the path
      const isDrive = cur.length === 1 && /[a-zA-Z]/.test(cur) && /[\\/]/.test(spec.charAt(i + 1));
      if (!isDrive) {
        parts.push(cur);
        cur = '';
        continue;
      }
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

/** True when a short-syntax source names a host path rather than a volume. */
function isBindSource(src: string): boolean {
  return src.startsWith('/') || src.startsWith('.') || src.startsWith('~') || isWindowsPath(src);
}

/** Parses `[source:]target[:mode]` into a long-syntax mount. */
export function parseVolumeSpec(spec: string): RawMap | string {
  const parts = splitVolumeSpec(spec);
  // `${UNSET}:/target` interpolates to `:/target`: compose-go loads it as an anonymous volume
  if (parts.length === 2 && parts[0] === '' && parts[1] !== '')
    return { type: 'volume', target: parts[1] ?? '' };
  if (parts.length > 3 || parts.some((p) => p === '')) {
    if (parts.length === 1 || parts.some((p) => p === ''))
      return `invalid spec: ${spec}: empty section between colons`;
    return `invalid spec: ${spec}: too many colons`;
  }
  if (parts.length === 1) return { type: 'volume', target: parts[0] ?? '' };
  const source = parts[0] ?? '';
  const target = parts[1] ?? '';
  const m: RawMap = { type: isBindSource(source) ? 'bind' : 'volume', source, target };
  const modes = parts[2] === undefined ? [] : parts[2].split(',');
  const bind: RawMap = {};
  const volume: RawMap = {};
  for (const mode of modes) {
    if (mode === 'ro') m.read_only = true;
    else if (mode === 'rw')
      continue; // the default; compose prints nothing for it
    else if (mode === 'z' || mode === 'Z') bind.selinux = mode;
    else if (PROPAGATION.has(mode)) bind.propagation = mode;
    else if (mode === 'nocopy') volume.nocopy = true;
    else if (mode === 'cached' || mode === 'delegated' || mode === 'consistent')
      m.consistency = mode;
  }
  if (m.type === 'bind') {
    bind.create_host_path = true;
    m.bind = bind;
  } else if (Object.keys(volume).length > 0) m.volume = volume;
  return m;
}

function volumes(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!Array.isArray(v)) return v;
  return v.map((item, i) => {
    if (typeof item === 'string') {
      const r = parseVolumeSpec(item);
      if (typeof r === 'string') {
        fail(ctx, [...path, i], r);
        return item;
      }
      return r;
    }
    if (!isRawMap(item)) return item;
    const m: RawMap = { ...item };
    if (m.source !== undefined && m.source !== null) m.source = scalarString(m.source);
    if (m.read_only !== undefined) m.read_only = boolValue(m.read_only);
    if (isRawMap(m.bind)) {
      const b: RawMap = { ...m.bind };
      b.create_host_path = b.create_host_path === undefined ? true : boolValue(b.create_host_path);
      m.bind = b;
    } else if (m.type === 'bind') m.bind = { create_host_path: true };
    if (isRawMap(m.volume)) {
      const vol: RawMap = { ...m.volume };
      if (vol.nocopy !== undefined) vol.nocopy = boolValue(vol.nocopy);
      if (vol.labels !== undefined)
        vol.labels = listOrDict(ctx, vol.labels, [...path, i, 'volume', 'labels'], '');
      m.volume = vol;
    }
    if (isRawMap(m.tmpfs)) {
      const t: RawMap = { ...m.tmpfs };
      if (t.size !== undefined) t.size = bytesValue(ctx, t.size, [...path, i, 'tmpfs', 'size']);
      if (t.mode !== undefined) t.mode = typeof t.mode === 'string' ? parseInt(t.mode, 8) : t.mode;
      m.tmpfs = t;
    }
    return m;
  });
}

// ---------------------------------------------------------------------------------------------
// other service attributes

function dependsOn(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (Array.isArray(v)) {
    const out: RawMap = {};
    v.forEach((name, i) => {
      const key = scalarString(name);
      if (key === '__proto__') fail(ctx, [...path, i], 'key "__proto__" is not supported');
      else out[key] = { condition: 'service_started', required: true };
    });
    return out;
  }
  if (isRawMap(v)) {
    const out: RawMap = {};
    for (const [k, d] of Object.entries(v)) {
      const e: RawMap = isRawMap(d) ? { ...d } : {};
      if (e.condition === undefined) e.condition = 'service_started';
      e.required = e.required === undefined ? true : boolValue(e.required);
      if (e.restart !== undefined) e.restart = boolValue(e.restart);
      out[k] = e;
    }
    return out;
  }
  return v;
}

function envFiles(v: RawValue): RawValue {
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
  if (!list) return v;
  return list.map((e) => {
    if (typeof e === 'string') return { path: e, required: true };
    if (isRawMap(e)) {
      const m: RawMap = { ...e };
      m.required = m.required === undefined ? true : boolValue(m.required);
      return m;
    }
    return e;
  });
}

/**
 * extra_hosts list (`host:ip`, `host=ip`, several ips comma-separated) or map -> sorted
 * `host=ip` list; an entry without a separator is compose-go's `invalid additional host, missing
 * IP: <entry>`.
 */
function extraHosts(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  const pairs: string[] = [];
  const add = (host: string, ips: string): void => {
    for (const ip of ips.split(',')) pairs.push(`${host}=${ip.trim()}`);
  };
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = scalarString(item);
      const eq = s.indexOf('=');
      // `host:ip` (the ip may be IPv6 and contain colons) or `host=ip`
      const sep = eq >= 0 ? eq : s.indexOf(':');
      if (sep < 0) fail(ctx, [...path, i], `invalid additional host, missing IP: ${s}`);
      else add(s.slice(0, sep), s.slice(sep + 1).replace(/^\[(.*)\]$/, '$1'));
    });
  } else if (isRawMap(v)) {
    for (const [host, ip] of Object.entries(v)) {
      if (Array.isArray(ip)) for (const x of ip) add(host, scalarString(x));
      else add(host, scalarString(ip));
    }
  } else return v;
  return pairs.sort();
}

function ulimits(v: RawValue): RawValue {
  if (!isRawMap(v)) return v;
  const out: RawMap = {};
  for (const [k, u] of Object.entries(v)) {
    if (isRawMap(u))
      out[k] = { ...u, soft: numberValue(u.soft ?? null), hard: numberValue(u.hard ?? null) };
    else out[k] = numberValue(u);
  }
  return out;
}

/**
 * `source[:target[:permissions]]` -> long form (compose-go transformDeviceMapping); more than three
 * parts is `confusing device mapping, please use long syntax`; an empty target is the source.
 */
function devices(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!Array.isArray(v)) return v;
  return v.map((d, i) => {
    if (typeof d !== 'string') return d;
    const parts = d.split(':');
    const source = parts[0] ?? '';
    if (parts.length > 3) {
      fail(ctx, [...path, i], `confusing device mapping, please use long syntax: ${d}`);
      return d;
    }
    if (parts.length === 1) return { source, target: source, permissions: 'rwm' };
    if (parts.length === 2) {
      const p = parts[1] ?? '';
      return /^[rwm]+$/.test(p)
        ? { source, target: source, permissions: p }
        : { source, target: p, permissions: 'rwm' };
    }
    const target = parts[1] === undefined || parts[1] === '' ? source : parts[1];
    return { source, target, permissions: parts[2] ?? 'rwm' };
  });
}

function serviceNetworks(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (Array.isArray(v)) {
    const out: RawMap = {};
    v.forEach((n, i) => {
      const key = scalarString(n);
      if (key === '__proto__') fail(ctx, [...path, i], 'key "__proto__" is not supported');
      else out[key] = null;
    });
    return out;
  }
  return v;
}

function fileRefs(v: RawValue, kind: 'secrets' | 'configs'): RawValue {
  if (!Array.isArray(v)) return v;
  return v.map((e) => {
    const m: RawMap = typeof e === 'string' ? { source: e } : isRawMap(e) ? { ...e } : {};
    if (!isRawMap(e) && typeof e !== 'string') return e;
    const source = typeof m.source === 'string' ? m.source : '';
    if (kind === 'secrets') {
      if (m.target === undefined) m.target = `/run/secrets/${source}`;
    } else if (m.target === undefined) m.target = `/${source}`;
    if (m.mode !== undefined) m.mode = modeValue(m.mode);
    if (m.uid !== undefined) m.uid = scalarString(m.uid);
    if (m.gid !== undefined) m.gid = scalarString(m.gid);
    return m;
  });
}

function healthcheck(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!isRawMap(v)) return v;
  const h: RawMap = { ...v };
  if (typeof h.test === 'string') h.test = ['CMD-SHELL', h.test];
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval']) {
    const d = h[k];
    if (d !== undefined && d !== null) h[k] = durationValue(ctx, d, [...path, k]);
  }
  if (h.retries !== undefined) h.retries = numberValue(h.retries);
  if (h.disable !== undefined) h.disable = boolValue(h.disable);
  return h;
}

function build(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  const b: RawMap | undefined =
    typeof v === 'string' ? { context: v } : isRawMap(v) ? { ...v } : undefined;
  if (!b) return v;
  if (b.args !== undefined) b.args = listOrDict(ctx, b.args, [...path, 'args'], null);
  if (b.labels !== undefined) b.labels = listOrDict(ctx, b.labels, [...path, 'labels'], '');
  if (b.extra_hosts !== undefined)
    b.extra_hosts = extraHosts(ctx, b.extra_hosts, [...path, 'extra_hosts']);
  if (b.shm_size !== undefined) b.shm_size = bytesValue(ctx, b.shm_size, [...path, 'shm_size']);
  if (b.ulimits !== undefined) b.ulimits = ulimits(b.ulimits);
  if (b.secrets !== undefined) b.secrets = fileRefs(b.secrets, 'secrets');
  if (Array.isArray(b.ssh)) {
    b.ssh = b.ssh.map((s) => {
      const t = scalarString(s);
      return t.includes('=') ? t : `${t}`;
    });
  } else if (isRawMap(b.ssh)) {
    b.ssh = Object.entries(b.ssh).map(([k, p]) => (p === null ? k : `${k}=${scalarString(p)}`));
  }
  for (const k of ['no_cache', 'pull', 'privileged'])
    if (b[k] !== undefined) b[k] = boolValue(b[k] ?? null);
  return b;
}

function deploy(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!isRawMap(v)) return v;
  const d: RawMap = { ...v };
  if (d.replicas !== undefined) d.replicas = numberValue(d.replicas);
  if (d.labels !== undefined) d.labels = listOrDict(ctx, d.labels, [...path, 'labels'], '');
  if (isRawMap(d.resources)) {
    const r: RawMap = { ...d.resources };
    for (const k of ['limits', 'reservations']) {
      const lim = r[k];
      if (!isRawMap(lim)) continue;
      const l: RawMap = { ...lim };
      if (l.cpus !== undefined)
        l.cpus = checkedNumber(ctx, l.cpus, [...path, 'resources', k, 'cpus'], false);
      if (l.memory !== undefined)
        l.memory = bytesValue(ctx, l.memory, [...path, 'resources', k, 'memory']);
      if (l.pids !== undefined) l.pids = numberValue(l.pids);
      if (Array.isArray(l.devices)) {
        l.devices = l.devices.map((dev, i) =>
          deviceRequest(ctx, dev, [...path, 'resources', k, 'devices', i]),
        );
      }
      r[k] = l;
    }
    d.resources = r;
  }
  for (const k of ['restart_policy', 'update_config', 'rollback_config']) {
    const sub = d[k];
    if (!isRawMap(sub)) continue;
    const s: RawMap = { ...sub };
    for (const dk of ['delay', 'window', 'monitor']) {
      const dv = s[dk];
      if (dv !== undefined && dv !== null) s[dk] = durationValue(ctx, dv, [...path, k, dk]);
    }
    if (s.max_attempts !== undefined) s.max_attempts = numberValue(s.max_attempts);
    if (s.parallelism !== undefined) s.parallelism = numberValue(s.parallelism);
    d[k] = s;
  }
  return d;
}

function deviceRequest(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!isRawMap(v)) return v;
  const d: RawMap = { ...v };
  if (d.count !== undefined && d.device_ids !== undefined) {
    fail(ctx, path, '"count" and "device_ids" attributes are exclusive');
  }
  if (typeof d.count === 'string') {
    if (d.count === 'all') d.count = -1;
    else if (/^-?\d+$/.test(d.count)) d.count = Number(d.count);
    else {
      fail(
        ctx,
        [...path, 'count'],
        `invalid value "${d.count}", the only value allowed is 'all' or a number`,
      );
    }
  }
  if (d.options !== undefined) d.options = listOrDict(ctx, d.options, [...path, 'options'], '');
  return d;
}

const BYTE_KEYS = ['mem_limit', 'mem_reservation', 'memswap_limit', 'shm_size', 'mem_swappiness'];
const NUMBER_KEYS = [
  'cpus',
  'cpu_shares',
  'cpu_count',
  'cpu_percent',
  'cpu_period',
  'cpu_quota',
  'cpu_rt_period',
  'cpu_rt_runtime',
  'pids_limit',
  'oom_score_adj',
  'scale',
];
const BOOL_KEYS = ['init', 'privileged', 'read_only', 'stdin_open', 'tty', 'oom_kill_disable'];
const STRING_LIST_KEYS = [
  'dns',
  'dns_search',
  'dns_opt',
  'tmpfs',
  'cap_add',
  'cap_drop',
  'expose',
  'security_opt',
];

function service(ctx: Ctx, v: RawValue, path: TreePath): RawValue {
  if (!isRawMap(v)) return v;
  const s: RawMap = { ...v };
  const at = (k: string): TreePath => [...path, k];
  for (const k of ['command', 'entrypoint']) {
    const c = s[k];
    if (typeof c !== 'string') continue;
    const words = shellSplit(c);
    if (words === undefined) fail(ctx, at(k), 'invalid command line string');
    else s[k] = words;
  }
  if (s.build !== undefined) s.build = build(ctx, s.build, at('build'));
  if (s.depends_on !== undefined)
    s.depends_on = dependsOn(ctx, s.depends_on, [...path, 'depends_on']);
  if (s.deploy !== undefined && s.deploy !== null) s.deploy = deploy(ctx, s.deploy, at('deploy'));
  if (s.devices !== undefined) s.devices = devices(ctx, s.devices, at('devices'));
  if (s.env_file !== undefined) s.env_file = envFiles(s.env_file);
  if (s.environment !== undefined)
    s.environment = listOrDict(ctx, s.environment, at('environment'), null);
  for (const k of ['labels', 'annotations'])
    if (s[k] !== undefined) s[k] = listOrDict(ctx, s[k] ?? null, at(k), '');
  if (s.sysctls !== undefined) s.sysctls = listOrDict(ctx, s.sysctls, at('sysctls'), '');
  if (s.storage_opt !== undefined)
    s.storage_opt = listOrDict(ctx, s.storage_opt, at('storage_opt'), '');
  if (s.extra_hosts !== undefined)
    s.extra_hosts = extraHosts(ctx, s.extra_hosts, at('extra_hosts'));
  if (s.healthcheck !== undefined)
    s.healthcheck = healthcheck(ctx, s.healthcheck, at('healthcheck'));
  if (s.networks !== undefined)
    s.networks = serviceNetworks(ctx, s.networks, [...path, 'networks']);
  if (s.ports !== undefined) s.ports = ports(ctx, s.ports, at('ports'));
  if (s.volumes !== undefined) s.volumes = volumes(ctx, s.volumes, at('volumes'));
  if (s.secrets !== undefined) s.secrets = fileRefs(s.secrets, 'secrets');
  if (s.configs !== undefined) s.configs = fileRefs(s.configs, 'configs');
  if (s.ulimits !== undefined) s.ulimits = ulimits(s.ulimits);
  if (s.stop_grace_period !== undefined && s.stop_grace_period !== null) {
    s.stop_grace_period = durationValue(ctx, s.stop_grace_period, at('stop_grace_period'));
  }
  if (isRawMap(s.logging) && s.logging.options !== undefined && s.logging.options !== null) {
    s.logging = {
      ...s.logging,
      options: listOrDict(ctx, s.logging.options, [...at('logging'), 'options'], ''),
    };
  }
  for (const k of BYTE_KEYS)
    if (s[k] !== undefined && s[k] !== null) s[k] = bytesValue(ctx, s[k] ?? null, at(k));
  for (const k of NUMBER_KEYS) {
    const n = s[k];
    if (n !== undefined && n !== null) s[k] = checkedNumber(ctx, n, at(k), k !== 'cpus');
  }
  for (const k of BOOL_KEYS) if (s[k] !== undefined) s[k] = boolValue(s[k] ?? null);
  for (const k of STRING_LIST_KEYS)
    if (s[k] !== undefined && s[k] !== null) s[k] = stringList(s[k] ?? null);
  if (s.gpus === 'all') s.gpus = [{ count: -1 }];
  return s;
}

/** Top-level networks/volumes/secrets/configs: null -> {}, labels maps, external.name. */
function resource(ctx: Ctx, kind: string, key: string, v: RawValue): RawValue {
  const path: TreePath = [kind, key];
  const r: RawMap = v === null ? {} : isRawMap(v) ? { ...v } : {};
  if (!isRawMap(v) && v !== null) return v;
  if (r.labels !== undefined) r.labels = listOrDict(ctx, r.labels, [...path, 'labels'], '');
  if (isRawMap(r.driver_opts)) {
    r.driver_opts = Object.fromEntries(
      Object.entries(r.driver_opts).map(([k, x]) => [k, scalarString(x)]),
    );
  }
  if (isRawMap(r.external)) {
    const extName = r.external.name;
    if (extName !== undefined) {
      if (r.name !== undefined && r.name !== extName) {
        fail(ctx, path, `${kind}.${key}: name and external.name conflict; only use name`);
      } else r.name = extName;
    }
    r.external = true;
  } else if (r.external !== undefined) r.external = boolValue(r.external);
  for (const k of ['internal', 'attachable', 'enable_ipv4', 'enable_ipv6']) {
    if (r[k] !== undefined) r[k] = boolValue(r[k] ?? null);
  }
  return r;
}

/**
 * Rewrites every short syntax of a merged raw tree into its long syntax (compose-go transform):
 * the returned tree has the shapes documented in compose/model.ts (byte sizes as decimal strings,
 * durations as Go strings, modes as octal strings, extra_hosts as sorted `host=ip`).
 * @throws ComposeError TSC_COMPOSE_INVALID listing every bad value (file left '' for the caller
 *   to fill; `path` in compose-go's dotted form)
 */
export function canonicalize(tree: RawMap): RawMap {
  const ctx: Ctx = { issues: [] };
  const out: RawMap = { ...tree };
  if (isRawMap(tree.services)) {
    const services: RawMap = {};
    for (const [name, s] of Object.entries(tree.services)) {
      // an empty service (`nil:`) is an empty mapping
      services[name] = service(ctx, s === null ? {} : s, ['services', name]);
    }

    out.services = services;
  }
  for (const kind of ['networks', 'volumes', 'secrets', 'configs']) {
    const section = tree[kind];
    if (!isRawMap(section)) continue;
    const m: RawMap = {};
    for (const [key, v] of Object.entries(section)) m[key] = resource(ctx, kind, key, v);
    out[kind] = m;
  }
  if (ctx.issues.length > 0) throw new ComposeError('TSC_COMPOSE_INVALID', ctx.issues);
  return out;
}
