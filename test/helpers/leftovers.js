// Suite-level leftover check (jest globalTeardown of the root tiers): fails the run when tests left
// mounts, cgroups, links, shims, iptables chains (TSCOMPOSE-*), a changed ip_forward or state of
// ours on the host. Names we create start with "tsc";
// links a peer daemon made for a test (dockerd's `br-<id>`, veths) are caught as links that were
// not there when the run began (recorded by the globalSetup `recordLinks`).
const { readFileSync, readdirSync, existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');

function findLeftovers() {
  const found = [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && /tscompose|tsc-test/.test(m));
  if (mounts.length) found.push(`mounts: ${mounts.join(' ')}`);
  for (const root of [
    '/sys/fs/cgroup',
    ...safeList('/sys/fs/cgroup').map((c) => `/sys/fs/cgroup/${c}`),
  ]) {
    for (const d of safeList(root))
      if (/tscompose|tsc-test/.test(d)) found.push(`cgroup: ${root}/${d}`);
  }
  const before = globalThis.__TSC_LINKS_BEFORE__;
  const links = linkNames().filter(
    (n) => /^(tsc|vtsc|br-tsc)/.test(n) || (before !== undefined && !before.includes(n)),
  );
  if (links.length) found.push(`links: ${links.join(' ')}`);
  for (const pid of safeList('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (comm.startsWith('tsc:[') || comm === 'tscompose-shim')
        found.push(`process ${pid} ${comm}`);
    } catch {
      /* exited meanwhile */
    }
  }
  if (existsSync('/run/netns')) {
    const ns = safeList('/run/netns').filter((n) => n.startsWith('tsc'));
    if (ns.length) found.push(`netns: ${ns.join(' ')}`);
  }
  for (const tool of ['iptables-save', 'ip6tables-save']) {
    const chains = ourChains(tool);
    if (chains.length) found.push(`${tool}: ${chains.join(' ')}`);
  }
  const forwardBefore = globalThis.__TSC_IP_FORWARD_BEFORE__;
  const forward = ipForward();
  if (forwardBefore !== undefined && forward !== forwardBefore)
    found.push(`net.ipv4.ip_forward: ${forward}, was ${forwardBefore}`);
  return found;
}

/** Names of our chains (TSCOMPOSE-*) declared in `tool`'s output ([] without the tool). */
function ourChains(tool) {
  try {
    const text = execFileSync(tool, [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return [...new Set(text.match(/^:TSCOMPOSE-[A-Z-]+/gm) ?? [])].map((c) => c.slice(1));
  } catch {
    return [];
  }
}

/** net.ipv4.ip_forward ('0' or '1'; undefined where it cannot be read). */
function ipForward() {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Names of the links in this netns ([] without iproute2: then nothing of ours can exist). */
function linkNames() {
  try {
    return execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => (l.split(': ')[1] || '').split('@')[0])
      .filter((n) => n !== '');
  } catch {
    return [];
  }
}

function safeList(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

module.exports = async function leftovers() {
  const found = findLeftovers();
  if (found.length) {
    throw new Error(`tests left these on the host:\n  ${found.join('\n  ')}`);
  }
};
module.exports.findLeftovers = findLeftovers;

/** jest globalSetup of the root tiers: the links and ip_forward as they were before any test ran. */
module.exports.recordLinks = async function recordLinks() {
  globalThis.__TSC_LINKS_BEFORE__ ??= linkNames();
  globalThis.__TSC_IP_FORWARD_BEFORE__ ??= ipForward();
};
