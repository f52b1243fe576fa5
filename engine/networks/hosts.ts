/**
 * Per-container /etc/hosts, /etc/hostname and /etc/resolv.conf: pure renderers in Docker's exact
 * formats (engine-reference §1.9, §2) and the writes of those files under a container's directory.
 * Knows nothing of bridges or the DNS server; takes addresses as data.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP, isIPv6 } from 'node:net';
import { dirname, join } from 'node:path';

/** One /etc/hosts record: an address and its names, rendered `ip\tname name...`. */
export interface HostsRecord {
  /** IPv4 or IPv6 address. */
  readonly ip: string;
  /** Names, space-joined in the file. */
  readonly names: readonly string[];
}

/** What {@link renderHosts} needs. */
export interface HostsInput {
  /** `Config.Hostname` (compose `hostname`, default the 12-hex short id). */
  readonly hostname: string;
  /** `Config.Domainname` (compose `domainname`), or '' . */
  readonly domainname: string;
  /** The container's own addresses (IPv4 and IPv6 of every attached network, in attach order). */
  readonly addresses: readonly string[];
  /** Extra records (compose `extra_hosts`, already resolved by {@link parseExtraHosts}). */
  readonly extraHosts: readonly HostsRecord[];
  /** Legacy `links` records (`ip alias name`). */
  readonly links?: readonly HostsRecord[] | undefined;
  /** False when IPv6 is disabled in the netns: only the IPv4 localhost line and IPv4 extras. */
  readonly ipv6: boolean;
}

const IPV6_DEFAULTS: readonly HostsRecord[] = [
  { ip: '::1', names: ['localhost', 'ip6-localhost', 'ip6-loopback'] },
  { ip: 'fe00::', names: ['ip6-localnet'] },
  { ip: 'ff00::', names: ['ip6-mcastprefix'] },
  { ip: 'ff02::1', names: ['ip6-allnodes'] },
  { ip: 'ff02::2', names: ['ip6-allrouters'] },
];

/**
 * Renders /etc/hosts as moby `etchosts.Build` / `BuildNoIPv6` plus `sandbox_dns_unix.go
 * #buildHostsFile` (reference §2.5): localhost lines, IPv6 lines, extra_hosts in order, links,
 * then one line per own address naming `hostname[.domainname]` (and the bare first label when the
 * name has a dot).
 */
export function renderHosts(input: HostsInput): string {
  const records: HostsRecord[] = [{ ip: '127.0.0.1', names: ['localhost'] }];
  if (input.ipv6) records.push(...IPV6_DEFAULTS);
  const keep = (r: HostsRecord): boolean => input.ipv6 || !isIPv6(r.ip);
  records.push(...input.extraHosts.filter(keep));
  records.push(...(input.links ?? []).filter(keep));
  const own = ownNames(input.hostname, input.domainname);
  for (const ip of input.addresses) if (keep({ ip, names: [] })) records.push({ ip, names: own });
  return records.map((r) => `${r.ip}\t${r.names.join(' ')}\n`).join('');
}

function ownNames(hostname: string, domainname: string): string[] {
  const fqdn = domainname ? `${hostname}.${domainname}` : hostname;
  const first = fqdn.split('.')[0] ?? fqdn;
  return first !== fqdn ? [fqdn, first] : [fqdn];
}

/**
 * Parses compose `extra_hosts` entries (`name:ip`, `name=ip`, IPv6 with colons, `[v6]` brackets)
 * into records; `host-gateway` becomes `hostGateway` (reference §2.5). Throws nothing: an entry
 * without a separator is kept as a name with an empty address filtered out.
 */
export function parseExtraHosts(entries: readonly string[], hostGateway: string): HostsRecord[] {
  const out: HostsRecord[] = [];
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const colon = entry.indexOf(':');
    const at = eq >= 0 && (colon < 0 || eq < colon) ? eq : colon;
    if (at <= 0) continue;
    const name = entry.slice(0, at);
    let ip = entry.slice(at + 1).trim();
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (ip === 'host-gateway') ip = hostGateway;
    if (isIP(ip) === 0) continue;
    out.push({ ip, names: [name] });
  }
  return out;
}

/** `/etc/hostname` content: `<hostname>\n` (moby `container_unix.go#BuildHostnameFile`). */
export function renderHostname(hostname: string): string {
  return `${hostname}\n`;
}

/** A parsed resolv.conf (moby `resolvconf.go#processLine`). */
export interface ResolvConf {
  /** Valid `nameserver` addresses in order. */
  readonly nameservers: readonly string[];
  /** `nameserver` values that are not IP addresses. */
  readonly invalidNameservers: readonly string[];
  /** Domains of the last `search` (or `domain`) line. */
  readonly search: readonly string[];
  /** `options` of every line, in order. */
  readonly options: readonly string[];
  /** Any other directive line, verbatim. */
  readonly other: readonly string[];
}

/** Parses resolv.conf text: comments/blank skipped, last search wins, options accumulate. */
export function parseResolvConf(text: string): ResolvConf {
  const nameservers: string[] = [];
  const invalidNameservers: string[] = [];
  let search: string[] = [];
  const options: string[] = [];
  const other: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const [directive = '', ...args] = line.split(/\s+/);
    switch (directive) {
      case 'nameserver': {
        const ns = args[0] ?? '';
        // A zone index (fe80::1%eth0) is allowed by the resolver; keep it verbatim.
        if (isIP(ns.split('%')[0] ?? '') !== 0) nameservers.push(ns);
        else invalidNameservers.push(ns);
        break;
      }
      case 'search':
      case 'domain':
        search = args;
        break;
      case 'options':
        options.push(...args);
        break;
      default:
        other.push(line);
    }
  }
  return { nameservers, invalidNameservers, search, options, other };
}

/** How the container's resolver is set up (reference §2.2). */
export type ResolvMode =
  /** User-defined network: only the embedded DNS address, host servers become forwarders. */
  | { readonly kind: 'internal'; readonly address: string }
  /** `network_mode: host` (and `none`): host servers after overrides, untouched. */
  | { readonly kind: 'host' }
  /** The legacy default bridge: host servers minus loopback, Google DNS when none are left. */
  | { readonly kind: 'legacy'; readonly ipv6: boolean };

/** What {@link renderResolvConf} needs. */
export interface ResolvConfInput {
  /** The host file's path (for the trailer comment). */
  readonly hostPath: string;
  /** The host file's text. */
  readonly hostContent: string;
  /** See {@link ResolvMode}. */
  readonly mode: ResolvMode;
  /** compose `dns` (`HostConfig.Dns`): replaces the host nameservers. */
  readonly dns?: readonly string[] | undefined;
  /** compose `dns_search` (`HostConfig.DnsSearch`): replaces search; `.` entries dropped. */
  readonly dnsSearch?: readonly string[] | undefined;
  /** compose `dns_opt` (`HostConfig.DnsOptions`): replaces options. */
  readonly dnsOptions?: readonly string[] | undefined;
}

/** An upstream the embedded DNS forwards to. */
export interface ExternalServer {
  /** IP address. */
  readonly address: string;
  /** True for servers from the host file (queried from the host netns, moby `HostLoopback`). */
  readonly hostLoopback: boolean;
}

/** The rendered file and the forwarders the embedded DNS should use for this container. */
export interface RenderedResolvConf {
  /** File content, mode 0644. */
  readonly content: string;
  /** Up to 3 external servers (moby `maxExtDNS`); empty unless the mode is `internal`. */
  readonly extServers: readonly ExternalServer[];
}

const HEADER =
  '# Generated by Docker Engine.\n' +
  '# This file can be edited; Docker Engine will not make further changes once it\n' +
  '# has been modified.\n';

/**
 * Renders /etc/resolv.conf as moby `resolvconf.go#Generate` after `TransformForIntNS` /
 * `TransformForLegacyNw` (reference §2.2-2.3): header, blank line, nameservers, one search line,
 * one options line, other directives, blank line, trailer comments. User overrides replace host
 * values; in internal mode `ndots:0` is added only when no valid ndots option exists.
 */
export function renderResolvConf(input: ResolvConfInput): RenderedResolvConf {
  const host = parseResolvConf(input.hostContent);
  const overrides: string[] = [];
  let nameservers = [...host.nameservers];
  let fromOverride = false;
  if (input.dns !== undefined && input.dns.length > 0) {
    nameservers = [...input.dns];
    fromOverride = true;
    overrides.push('nameservers');
  }
  let search = [...host.search];
  if (input.dnsSearch !== undefined && input.dnsSearch.length > 0) {
    search = input.dnsSearch.filter((d) => d !== '.');
    overrides.push('search');
  }
  let options = [...host.options];
  let optionsFromOverride = false;
  if (input.dnsOptions !== undefined && input.dnsOptions.length > 0) {
    options = [...input.dnsOptions];
    optionsFromOverride = true;
    overrides.push('options');
  }

  const trailer: string[] = [];
  let written: string[];
  let extServers: ExternalServer[] = [];
  let transform = '';
  let ndotsFrom = '';
  switch (input.mode.kind) {
    case 'host':
      written = nameservers;
      break;
    case 'legacy': {
      const ipv6 = input.mode.ipv6;
      written = fromOverride
        ? nameservers
        : nameservers.filter((ns) => !isLoopback(ns) && (ipv6 || !isIPv6(ns.split('%')[0] ?? '')));
      if (written.length === 0) {
        written = [
          '8.8.8.8',
          '8.8.4.4',
          ...(ipv6 ? ['2001:4860:4860::8888', '2001:4860:4860::8844'] : []),
        ];
        trailer.push('# Used default nameservers.');
      }
      transform = 'legacy';
      break;
    }
    case 'internal': {
      written = [input.mode.address];
      extServers = nameservers
        .slice(0, 3)
        .map((address) => ({ address, hostLoopback: !fromOverride }));
      if (extServers.length === 0) trailer.push('# NO EXTERNAL NAMESERVERS DEFINED');
      transform = 'internal resolver';
      const valid = (o: string): boolean => /^ndots:\d+$/.test(o);
      options = options.filter((o) => !o.startsWith('ndots:') || valid(o));
      if (options.some(valid)) {
        ndotsFrom = optionsFromOverride ? 'override' : 'host';
      } else {
        options.push('ndots:0');
        ndotsFrom = 'internal';
      }
      break;
    }
  }

  let body = `${HEADER}\n`;
  for (const ns of written) body += `nameserver ${ns}\n`;
  if (search.length > 0) body += `search ${search.join(' ')}\n`;
  if (options.length > 0) body += `options ${options.join(' ')}\n`;
  for (const line of host.other) body += `${line}\n`;
  body += `\n# Based on host file: '${input.hostPath}'${transform ? ` (${transform})` : ''}\n`;
  for (const line of trailer) body += `${line}\n`;
  if (extServers.length > 0) {
    const shown = extServers.map((s) => (s.hostLoopback ? `host(${s.address})` : s.address));
    body += `# ExtServers: [${shown.join(' ')}]\n`;
  }
  if (host.invalidNameservers.length > 0) {
    body += `# Invalid nameservers: [${host.invalidNameservers.join(' ')}]\n`;
  }
  body += `# Overrides: [${overrides.join(' ')}]\n`;
  if (ndotsFrom) body += `# Option ndots from: ${ndotsFrom}\n`;
  return { content: body, extServers };
}

function isLoopback(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1';
}

/**
 * Picks the host resolv.conf as moby `resolvconf_path.go#Path`: `/etc/resolv.conf`, unless its only
 * nameserver is the systemd-resolved stub 127.0.0.53, then `/run/systemd/resolve/resolv.conf`.
 * `root` prefixes both paths (tests). Returns the path and its text ('' when unreadable).
 */
export function readHostResolvConf(root = ''): { path: string; content: string } {
  const read = (p: string): string => {
    try {
      return readFileSync(root + p, 'utf8');
    } catch {
      return '';
    }
  };
  const etc = read('/etc/resolv.conf');
  const ns = parseResolvConf(etc).nameservers;
  if (ns.length === 1 && ns[0] === '127.0.0.53') {
    const systemd = '/run/systemd/resolve/resolv.conf';
    const text = read(systemd);
    if (text !== '') return { path: systemd, content: text };
  }
  return { path: '/etc/resolv.conf', content: etc };
}

/**
 * Writes a file the container bind-mounts: in place (truncate + write, the inode stays; moby
 * `resolvconf.go#WriteFile`) when it exists, else via a temporary file and rename. Mode 0644.
 */
export function writeContainerFile(path: string, content: string): void {
  if (existsSync(path)) {
    writeFileSync(path, content, { flag: 'w', mode: 0o644 });
    return;
  }
  const tmp = join(dirname(path), `.${process.pid}.tmp`);
  writeFileSync(tmp, content, { mode: 0o644 });
  renameSync(tmp, path);
}

/** Paths of a container's network files under its directory (moby `GetRootResourcePath`). */
export interface ContainerNetworkFiles {
  /** `<dir>/hostname`. */
  readonly hostname: string;
  /** `<dir>/hosts`. */
  readonly hosts: string;
  /** `<dir>/resolv.conf`. */
  readonly resolvConf: string;
}

/** The file paths for a container directory. */
export function containerNetworkFiles(dir: string): ContainerNetworkFiles {
  return {
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    resolvConf: join(dir, 'resolv.conf'),
  };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Writes resolv.conf and `resolv.conf.hash` (sha256 of the generated text), unless the user edited
 * the file since the last write (moby `UserModified`): then it is left alone and false returned.
 */
export function writeResolvConf(path: string, content: string): boolean {
  const hashPath = `${path}.hash`;
  if (existsSync(path) && existsSync(hashPath)) {
    const current = readFileSync(path, 'utf8');
    if (sha256(current) !== readFileSync(hashPath, 'utf8').trim()) return false;
  }
  writeContainerFile(path, content);
  writeContainerFile(hashPath, `${sha256(content)}\n`);
  return true;
}
