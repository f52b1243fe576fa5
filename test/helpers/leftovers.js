// Suite-level leftover check (jest globalTeardown of the root tiers): fails the run when tests left
// mounts, cgroups, links, shims or state of ours on the host. Names we create start with "tsc".
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
  try {
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => (l.split(': ')[1] || '').split('@')[0])
      .filter((n) => /^(tsc|vtsc|br-tsc)/.test(n));
    if (links.length) found.push(`links: ${links.join(' ')}`);
  } catch {
    /* no iproute2: nothing of ours can exist either */
  }
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
  return found;
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
