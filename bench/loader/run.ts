/**
 * bench/loader: loads a generated 300-service project (extends, anchors, env files,
 * interpolation) with tscompose's loader and with docker-compose v1 (`docker-compose config`,
 * Debian's docker-compose package, installed when missing) in the same run, and prints the time
 * per load and the ratio. Writes only under a temp dir it removes.
 * Run: npm run bench:loader
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadProject } from '../../compose/index.js';
import { renderConfig } from '../../compose/render.js';

const SERVICES = 300;

/** Writes the generated project into `dir`; returns the compose file path. */
export function generateProject(dir: string, services = SERVICES): string {
  const lines: string[] = [
    'x-common: &common',
    '  restart: unless-stopped',
    '  environment:',
    '    LOG_LEVEL: ${LOG_LEVEL:-info}',
    '    REGION: ${REGION}',
    '  labels:',
    '    com.example.stack: "bench"',
    '',
    'services:',
  ];
  writeFileSync(join(dir, '.env'), 'REGION=eu-west\nIMAGE_TAG=1.36\nBASE_PORT=20000\n');
  writeFileSync(join(dir, 'app.env'), 'APP_MODE=bench\nAPP_USER="bench user" # quoted\n');
  writeFileSync(
    join(dir, 'base.yaml'),
    [
      'services:',
      '  base:',
      '    image: busybox:${IMAGE_TAG}',
      '    env_file: app.env',
      '    healthcheck:',
      '      test: ["CMD", "true"]',
      '      interval: 10s',
      '',
    ].join('\n'),
  );
  for (let i = 0; i < services; i++) {
    lines.push(
      `  svc${i}:`,
      '    <<: *common',
      '    extends:',
      '      file: base.yaml',
      '      service: base',
      `    command: ["sh", "-c", "echo svc${i} $$HOSTNAME"]`,
      '    ports:',
      `      - "${20000 + i}:80"`,
      '    volumes:',
      `      - ./data/svc${i}:/data:ro`,
      `      - cache${i % 10}:/cache`,
    );
    if (i > 0) lines.push('    depends_on:', `      - svc${i - 1}`);
  }
  lines.push('volumes:');
  for (let v = 0; v < 10; v++) lines.push(`  cache${v}: {}`);
  const file = join(dir, 'docker-compose.yml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function timeOurs(dir: string, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const { project } = loadProject({ cwd: dir, environment: { PATH: process.env.PATH } });
    renderConfig(project, { format: 'yaml' });
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

function ensureDockerComposeV1(): boolean {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return true;
  if (process.getuid?.() !== 0) return false;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'docker-compose'], { env, stdio: 'ignore' });
  return spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
}

function timeV1(dir: string, runs: number): number | undefined {
  if (!ensureDockerComposeV1()) return undefined;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('docker-compose', ['config'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (r.status !== 0) {
      process.stderr.write(`docker-compose config failed: ${String(r.stderr)}\n`);
      return undefined;
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsc-bench-loader-'));
  try {
    generateProject(dir);
    timeOurs(dir, 3); // warm-up: JIT and module loading
    const ours = timeOurs(dir, 15);
    const v1 = timeV1(dir, 5);
    console.log(`loader: ${SERVICES} services, extends + anchors + env files + interpolation`);
    console.log(`tscompose load+render  median ${ours.toFixed(1)} ms`);
    if (v1 === undefined) {
      console.log('docker-compose v1      not available (install Debian docker-compose as root)');
    } else {
      console.log(`docker-compose config  median ${v1.toFixed(1)} ms (process start included)`);
      console.log(`ratio: tscompose is ${(v1 / ours).toFixed(1)}x faster (target >= 10x)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
