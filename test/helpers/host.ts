/**
 * Host requirements for integration and e2e tests. On a developer machine without root a suite
 * skips with a printed reason; under CI (CI=true) a missing requirement fails the suite loudly.
 * Missing Debian packages are installed with apt-get when running as root (CI is root).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What a suite needs from the host. */
export interface HostNeeds {
  /** Effective uid 0. */
  readonly root?: boolean;
  /** Debian packages to install when missing (by package name). */
  readonly packages?: readonly string[];
}

let aptUpdated = false;

/** True when dpkg reports the package as installed. */
export function isDebInstalled(pkg: string): boolean {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.includes('install ok installed');
  } catch {
    return false;
  }
}

/**
 * Installs Debian packages that are missing (apt-get, non-interactive). Throws with apt's output
 * when installation fails; never skips.
 */
export function ensureDebPackages(pkgs: readonly string[]): void {
  const missing = pkgs.filter((p) => !isDebInstalled(p));
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    aptUpdated = true;
  }
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The reasons this host cannot run a suite with these needs (empty when it can). */
export function missingHostNeeds(needs: HostNeeds): string[] {
  const missing: string[] = [];
  if (needs.root && process.getuid?.() !== 0) missing.push('root');
  if (process.platform !== 'linux') missing.push('linux');
  return missing;
}

/**
 * Call at the top of a describe() block. Returns true when the suite may run. When it may not:
 * under CI it throws (the suite fails), elsewhere it prints why and the caller skips.
 */
export function requireHost(needs: HostNeeds): boolean {
  const missing = missingHostNeeds(needs);
  if (missing.length > 0) {
    const why = `needs ${missing.join(', ')}`;
    if (process.env.CI) throw new Error(`host requirement missing under CI: ${why}`);
    console.warn(`skipping suite: ${why}`);
    return false;
  }
  if (needs.packages && needs.packages.length > 0) ensureDebPackages(needs.packages);
  return true;
}

/** True when a path exists (small convenience for host probes). */
export function hostHas(path: string): boolean {
  return existsSync(path);
}
