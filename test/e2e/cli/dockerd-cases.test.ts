// The reported-problem cases that run containers (shared/cases 021-037), with tscompose pointed at
// a private dockerd: our orchestrator must give the cases' expected outcomes on a real Docker engine.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { requireHost } from '../../helpers/host';
import { CASES, ROOT } from '../../helpers/paths';
import { startDockerd, stopDockerd, type TestDockerd } from './dockerd';

const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const RUNTIME_CASES = [
  '021-completed-successfully-dependency-fails',
  '023-up-wait-with-oneshot',
  '025-network-alias-dns',
  '027-service-and-container-name-dns',
  '029-dns-opt-and-search-in-resolv-conf',
  '030-deploy-memory-limit-applied',
  '033-stop-grace-period-honoured',
  '035-stop-signal-used',
  '037-run-ignores-container-name',
];

const runnable = requireHost({ root: true, packages: ['docker.io', 'busybox-static', 'jq'] });
const suite = runnable ? describe : describe.skip;

suite('runtime cases against dockerd', () => {
  let d: TestDockerd;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(CLI))
      spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    d = await startDockerd();
    dir = mkdtempSync('/tmp/tsc-test-cases-');
    cpSync(CASES, join(dir, 'cases'), { recursive: true });
  }, 180_000);

  afterAll(async () => {
    if (d) await stopDockerd(d);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it.each(RUNTIME_CASES)(
    'case %s must pass',
    (name) => {
      const r = spawnSync('bash', [join(dir, 'cases', name, 'check.sh')], {
        env: {
          ...process.env,
          TSC: `${process.execPath} ${CLI}`,
          DOCKER_HOST: d.host,
          ENGINE_HOST: d.host,
          DOCKER: 'docker',
        },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 600_000,
      });
      const lines = r.stdout.trim().split('\n');
      const failed = lines.filter((l) => l.startsWith('not ok'));
      expect({ failed, summary: lines[lines.length - 1] }).toEqual({
        failed: [],
        summary: expect.stringMatching(/^[1-9]\d* passed, 0 failed$/) as unknown,
      });
      expect(r.status).toBe(0);
    },
    600_000,
  );
});
