// openProjectObserved (cli/commands/common.ts): with -p the daemon is asked before the compose file
// is read, and the answer is the same as openProject + observe in turn; errors keep their order.
// A fake Docker API on a unix socket in a temp dir answers the three list calls.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import { openProjectObserved } from '../../../cli/commands/common';
import { runDown } from '../../../cli/commands/down';
import { runUp } from '../../../cli/commands/up';

let dir = '';
let socket = '';
let server: http.Server;
/** Request URLs the fake API received. */
const seen: string[] = [];

const container = {
  Id: 'c1',
  Names: ['/p1-web-1'],
  Image: 'busybox:1.36',
  ImageID: 'sha256:1',
  Command: 'sh',
  Created: 1,
  State: 'running',
  Status: 'Up',
  Ports: [],
  Labels: {
    'com.docker.compose.project': 'p1',
    'com.docker.compose.service': 'web',
    'com.docker.compose.container-number': '1',
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.config-hash': 'x',
  },
  NetworkSettings: { Networks: {} },
  Mounts: [],
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-open-observed-'));
  socket = path.join(dir, 'api.sock');
  server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const project = /com\.docker\.compose\.project=([^"]+)/.exec(
      url.searchParams.get('filters') ?? '',
    )?.[1];
    let body: unknown = [];
    if (url.pathname.endsWith('/containers/json')) body = project === 'p1' ? [container] : [];
    else if (url.pathname.endsWith('/volumes')) body = { Volumes: [], Warnings: [] };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  fs.writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  web:\n    image: busybox:1.36\n');
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
});

describe('openProjectObserved', () => {
  it('must observe the project named by -p and load the compose file', async () => {
    const { ctx, observed } = await openProjectObserved(
      { file: [path.join(dir, 'compose.yaml')], projectName: 'p1', host: `unix://${socket}` },
      {},
      { images: false },
    );
    expect(ctx.name).toBe('p1');
    expect(Object.keys(ctx.loaded?.project.services ?? {})).toEqual(['web']);
    expect(observed.containers.map((c) => [c.name, c.service])).toEqual([['p1-web-1', 'web']]);
    // one round of list calls, no second observation
    expect(seen.map((u) => new URL(u, 'http://x').pathname).sort()).toEqual([
      '/containers/json',
      '/networks',
      '/volumes',
    ]);
  });

  it('must observe the loaded project name when -p is not given', async () => {
    const { ctx, observed } = await openProjectObserved(
      { file: [path.join(dir, 'compose.yaml')], host: `unix://${socket}` },
      {},
      { images: false },
    );
    expect(ctx.name).toBe(
      path
        .basename(dir)
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, ''),
    );
    expect(observed.containers).toEqual([]);
    expect(seen).toHaveLength(3);
  });

  it("must report the compose file's error before an unreachable daemon's", async () => {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'services:\n  web:\n    image: [1\n');
    await expect(
      openProjectObserved(
        {
          file: [path.join(dir, 'bad.yaml')],
          projectName: 'p1',
          host: `unix://${path.join(dir, 'missing.sock')}`,
        },
        {},
      ),
    ).rejects.toThrow(/bad\.yaml/);
  });

  it('must report an unknown service before an unreachable daemon (down, up)', async () => {
    const g = {
      file: [path.join(dir, 'compose.yaml')],
      projectName: 'p1',
      host: `unix://${path.join(dir, 'missing.sock')}`,
    };
    await expect(runDown(g, {}, ['nosuch'])).rejects.toThrow('no such service: nosuch');
    await expect(runUp(g, ['nosuch'], { detach: true })).rejects.toThrow('no such service: nosuch');
  });

  it('must refuse an invalid -p when there is no compose file (down -p NAME anywhere)', async () => {
    const empty = fs.mkdtempSync(path.join(dir, 'nofile-'));
    const g = { projectDirectory: empty, projectName: 'Bad!', host: `unix://${socket}` };
    await expect(runDown(g, {}, [])).rejects.toMatchObject({
      code: 'TSC_COMPOSE_PROJECT_NAME',
      message: expect.stringContaining('invalid project name "Bad!"') as unknown,
    });
    // nothing was asked of the daemon but the early observation (no stop, no remove)
    expect(seen.every((u) => /\/(containers|networks|volumes)(\/json)?\?/.test(u))).toBe(true);
    const ok = await runDown({ ...g, projectName: 'p-none' }, {}, []);
    expect(ok).toBe(0);
  });

  it('must report an unreachable daemon when the compose file loads', async () => {
    await expect(
      openProjectObserved(
        {
          file: [path.join(dir, 'compose.yaml')],
          projectName: 'p1',
          host: `unix://${path.join(dir, 'missing.sock')}`,
        },
        {},
      ),
    ).rejects.toThrow(/missing\.sock|ENOENT|connect/);
  });
});
