/**
 * Engine API endpoints beyond the container basics, as root against a real engine child: the
 * container archive (HEAD/GET/PUT, docker cp both ways, traversal refused), `GET /system/df`
 * (also `docker system df [-v]`), `docker save` / `docker load` (ours, and into a private dockerd),
 * `docker import` (a rootfs tar with `--change`), and Docker's status codes and bodies for bad
 * requests. Everything created is removed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import type Docker from 'dockerode';
import * as tarStream from 'tar-stream';

import { runCp } from '../../../cli/commands/cp';
import { startDockerd, stopDockerd, type TestDockerd } from '../../e2e/cli/dockerd';
import { makeTar } from '../../fixtures/images/build';
import { dockerCli, type EngineHome } from '../../helpers/engine';
import { useEngine } from '../../helpers/engine-fixture';
import { requireHost } from '../../helpers/host';

const ok = requireHost({ root: true, packages: ['tini', 'docker.io', 'busybox-static'] });
const d = ok ? describe : describe.skip;

jest.setTimeout(180_000);

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on the engine socket. */
function request(
  socket: string,
  method: string,
  path: string,
  body?: Buffer | string,
  contentType = 'application/json',
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath: socket, method, path, headers: { 'Content-Type': contentType } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function message(r: Raw): string {
  return (JSON.parse(r.body.toString()) as { message: string }).message;
}

function pathStat(r: Raw): Record<string, unknown> {
  const h = r.headers['x-docker-container-path-stat'];
  if (typeof h !== 'string') throw new Error(`no stat header (status ${r.status})`);
  return JSON.parse(Buffer.from(h, 'base64').toString()) as Record<string, unknown>;
}

/** name -> { type, body, linkname } of a tar. */
async function untar(
  buf: Buffer,
): Promise<Map<string, { type: string; body: string; linkname: string | null }>> {
  const out = new Map<string, { type: string; body: string; linkname: string | null }>();
  const ex = tarStream.extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, s, next) => {
      const parts: Buffer[] = [];
      s.on('data', (c: unknown) => parts.push(c as Buffer));
      s.on('end', () => {
        out.set(h.name, {
          type: h.type ?? 'file',
          body: Buffer.concat(parts).toString(),
          linkname: h.linkname ?? null,
        });
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return out;
}

const archivePath = (c: string, p: string, extra = ''): string =>
  `/v1.47/containers/${c}/archive?path=${encodeURIComponent(p)}${extra}`;

d('engine API: archive, system df, image save, bad requests', () => {
  const fx = useEngine();
  let home: EngineHome;
  let docker: Docker;
  beforeAll(() => {
    ({ home, docker } = fx);
  });

  it('stats paths of a stopped container like dockerd (HEAD archive)', async () => {
    await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-arch-stat',
      HostConfig: { NetworkMode: 'none' },
    });
    const passwd = await request(home.socket, 'HEAD', archivePath('tsc-arch-stat', '/etc/passwd'));
    expect(passwd.status).toBe(200);
    expect(pathStat(passwd)).toMatchObject({ name: 'passwd', mode: 0o644, linkTarget: '' });
    expect(pathStat(passwd).mtime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const sh = pathStat(
      await request(home.socket, 'HEAD', archivePath('tsc-arch-stat', '/bin/sh')),
    );
    // Go os.ModeSymlink | 0777, target resolved inside the container
    expect(sh).toMatchObject({ name: 'sh', mode: 2 ** 27 + 0o777, linkTarget: '/bin/busybox' });
    const dir = pathStat(await request(home.socket, 'HEAD', archivePath('tsc-arch-stat', '/tmp')));
    expect(dir).toMatchObject({ name: 'tmp', mode: 2 ** 31 + 2 ** 20 + 0o777 });
    const missing = await request(home.socket, 'GET', archivePath('tsc-arch-stat', '/nonexist'));
    expect(missing.status).toBe(404);
    expect(message(missing)).toBe('Could not find the file /nonexist in container tsc-arch-stat');
    expect(
      (await request(home.socket, 'HEAD', archivePath('tsc-arch-stat', '/nonexist'))).status,
    ).toBe(404);
    const noPath = await request(home.socket, 'PUT', '/v1.47/containers/tsc-arch-stat/archive', '');
    expect(noPath.status).toBe(400);
    expect(message(noPath)).toBe('bad parameter: path cannot be empty');
    await docker.getContainer('tsc-arch-stat').remove();
  });

  it('puts and gets files of a stopped container, refusing escapes (PUT/GET archive)', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-arch-put',
      Cmd: ['cat', '/tmp/d/f', '/etc/tsc-test-viasym'],
      HostConfig: { NetworkMode: 'none' },
    });
    const put = (p: string, tar: Buffer, extra = ''): Promise<Raw> =>
      request(home.socket, 'PUT', archivePath('tsc-arch-put', p, extra), tar, 'application/x-tar');
    const good = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750 },
      { name: 'd/f', body: 'hello\n', mode: 0o600, uid: 65534, gid: 65534 },
      { name: 'd/ln', type: 'symlink', linkname: 'f' },
      // an absolute symlink resolves inside the container, as in dockerd's chrooted untar
      { name: 'root', type: 'symlink', linkname: '/' },
      { name: 'root/etc/tsc-test-viasym', body: 'via symlink\n' },
    ]);
    expect((await put('/tmp', good)).status).toBe(200);
    expect(existsSync('/etc/tsc-test-viasym')).toBe(false);

    const got = await request(home.socket, 'GET', archivePath('tsc-arch-put', '/tmp/d'));
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('application/x-tar');
    expect(pathStat(got)).toMatchObject({ name: 'd', mode: 2 ** 31 + 0o750 });
    const entries = await untar(got.body);
    expect([...entries.keys()].sort()).toEqual(['d/', 'd/f', 'd/ln']);
    expect(entries.get('d/f')?.body).toBe('hello\n');
    expect(entries.get('d/ln')).toMatchObject({ type: 'symlink', linkname: 'f' });

    const dotdot = await put('/tmp', await makeTar([{ name: '../../tsc-test-evil', body: 'x' }]));
    expect(dotdot.status).toBe(400);
    expect(message(dotdot)).toBe('"../../tsc-test-evil" is outside of "/tmp"');
    const sym = await put(
      '/tmp',
      await makeTar([{ name: 'l', type: 'symlink', linkname: '../../../../..' }]),
    );
    expect(sym.status).toBe(400);
    expect(message(sym)).toBe('invalid symlink "/tmp/l" -> "../../../../.."');
    const hard = await put(
      '/tmp',
      await makeTar([{ name: 'h', type: 'link', linkname: '../../../etc/passwd' }]),
    );
    expect(hard.status).toBe(400);
    expect(message(hard)).toBe('invalid hardlink "/etc/passwd" -> "../../../etc/passwd"');
    const notDir = await put('/etc/passwd', good);
    expect(notDir.status).toBe(400);
    expect(message(notDir)).toBe('extraction point is not a directory');
    const gone = await put('/nonexist', good);
    expect(gone.status).toBe(404);
    expect(message(gone)).toBe('Could not find the file /nonexist in container tsc-arch-put');
    const clobber = await put(
      '/',
      await makeTar([{ name: 'tmp', body: 'not a dir' }]),
      '&noOverwriteDirNonDir=true',
    );
    expect(clobber.status).toBe(400);
    expect(message(clobber)).toBe('cannot overwrite directory "/tmp" with non-directory "/"');

    // the files are really in the container: it prints them when started
    await c.start();
    expect((await c.wait()).StatusCode).toBe(0);
    const logs = (await c.logs({ stdout: true })).toString();
    expect(logs).toContain('hello');
    expect(logs).toContain('via symlink');
    await c.remove();
  });

  it('refuses a read-only rootfs and writes into a stopped container volume', async () => {
    await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-arch-ro',
      HostConfig: { NetworkMode: 'none', ReadonlyRootfs: true },
    });
    const tar = await makeTar([{ name: 'f', body: 'x\n' }]);
    const ro = await request(
      home.socket,
      'PUT',
      archivePath('tsc-arch-ro', '/tmp'),
      tar,
      'application/x-tar',
    );
    expect(ro.status).toBe(400);
    expect(message(ro)).toBe('container rootfs is marked read-only');
    await docker.getContainer('tsc-arch-ro').remove();

    await docker.createVolume({ Name: 'tsc-test-arch-vol' });
    await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-arch-vol',
      HostConfig: { NetworkMode: 'none', Binds: ['tsc-test-arch-vol:/data'] },
    });
    const put = await request(
      home.socket,
      'PUT',
      archivePath('tsc-arch-vol', '/data'),
      tar,
      'application/x-tar',
    );
    expect(put.status).toBe(200);
    const vol = await docker.getVolume('tsc-test-arch-vol').inspect();
    expect(readFileSync(join(vol.Mountpoint, 'f'), 'utf8')).toBe('x\n');
    await docker.getContainer('tsc-arch-vol').remove({ v: true });
    await docker.getVolume('tsc-test-arch-vol').remove();
  });

  it('copies both ways with docker cp and dockerode on a running container', async () => {
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-arch-run',
      Cmd: ['sleep', '300'],
      HostConfig: { NetworkMode: 'none', Tmpfs: { '/scratch': '' } },
    });
    await c.start();
    const local = join(home.dir, 'cp');
    mkdirSync(join(local, 'in'), { recursive: true });
    writeFileSync(join(local, 'in', 'a.txt'), 'from the host\n');
    await dockerCli(home, 'cp', join(local, 'in'), 'tsc-arch-run:/tmp/');
    await dockerCli(home, 'cp', join(local, 'in', 'a.txt'), 'tsc-arch-run:/scratch/b.txt');
    const exec = async (cmd: string[]): Promise<string> =>
      (await dockerCli(home, 'exec', 'tsc-arch-run', ...cmd)).stdout;
    expect(await exec(['cat', '/tmp/in/a.txt'])).toBe('from the host\n');
    // a tmpfs only exists inside the running container: reached through its own root
    expect(await exec(['cat', '/scratch/b.txt'])).toBe('from the host\n');
    await exec(['sh', '-c', 'mkdir -p /srv/out && echo made inside > /srv/out/c.txt']);
    await dockerCli(home, 'cp', 'tsc-arch-run:/srv/out', join(local, 'back'));
    expect(readFileSync(join(local, 'back', 'c.txt'), 'utf8')).toBe('made inside\n');
    await dockerCli(home, 'cp', 'tsc-arch-run:/etc/passwd', join(local, 'passwd'));
    expect(readFileSync(join(local, 'passwd'), 'utf8')).toContain('root:x:0:0');
    // dockerode's getArchive/putArchive, which `tscompose cp` uses
    const stream = await c.getArchive({ path: '/srv/out/c.txt' });
    const chunks: Buffer[] = [];
    for await (const x of stream) chunks.push(x as Buffer);
    expect((await untar(Buffer.concat(chunks))).get('c.txt')?.body).toBe('made inside\n');
    await c.putArchive(Readable.from([await makeTar([{ name: 'p.txt', body: 'put\n' }])]), {
      path: '/srv',
    });
    expect(await exec(['cat', '/srv/p.txt'])).toBe('put\n');
    await c.remove({ force: true });
  });

  it('copies with `tscompose cp` through the archive endpoints', async () => {
    const dir = join(home.dir, 'proj');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'compose.yaml');
    writeFileSync(
      file,
      'services:\n  app:\n    image: busybox:1.36\n    command: ["sleep", "300"]\n    network_mode: none\n',
    );
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsccp-app-1',
      Cmd: ['sleep', '300'],
      Labels: {
        'com.docker.compose.project': 'tsccp',
        'com.docker.compose.service': 'app',
        'com.docker.compose.container-number': '1',
        'com.docker.compose.oneoff': 'False',
      },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    const g = { file: [file], projectName: 'tsccp', host: `unix://${home.socket}` };
    writeFileSync(join(dir, 'note.txt'), 'noted\n');
    // to an existing directory (keeps the name) and to a new name in an existing directory
    expect(await runCp(g, join(dir, 'note.txt'), 'app:/tmp', {})).toBe(0);
    expect(await runCp(g, join(dir, 'note.txt'), 'app:/tmp/renamed.txt', {})).toBe(0);
    const cat = async (p: string): Promise<string> =>
      (await dockerCli(home, 'exec', 'tsccp-app-1', 'cat', p)).stdout;
    expect(await cat('/tmp/note.txt')).toBe('noted\n');
    expect(await cat('/tmp/renamed.txt')).toBe('noted\n');
    expect(await runCp(g, 'app:/etc/passwd', join(dir, 'passwd.copy'), {})).toBe(0);
    expect(readFileSync(join(dir, 'passwd.copy'), 'utf8')).toContain('root:x:0:0');
    await c.remove({ force: true });
  });

  it('reports data usage (GET /system/df, docker system df)', async () => {
    await docker.createVolume({ Name: 'tsc-test-df-vol' });
    const c = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-df',
      Cmd: ['sh', '-c', 'head -c 3000 /dev/zero > /big && head -c 1234 /dev/zero > /data/f'],
      HostConfig: { NetworkMode: 'none', Binds: ['tsc-test-df-vol:/data'] },
    });
    await c.start();
    await c.wait();
    const all = JSON.parse(
      (await request(home.socket, 'GET', '/v1.47/system/df')).body.toString(),
    ) as {
      LayersSize: number;
      Images: Array<{ Id: string; Size: number; SharedSize: number; Containers: number }>;
      Containers: Array<{ Names: string[]; SizeRw: number; SizeRootFs: number }>;
      Volumes: Array<{ Name: string; UsageData: { Size: number; RefCount: number } }>;
      BuildCache: unknown[];
    };
    expect(all.LayersSize).toBeGreaterThan(0);
    const image = all.Images.find((i) => i.Size > 0);
    const users = (await docker.listContainers({ all: true })).filter(
      (x) => x.ImageID === image?.Id,
    ).length;
    expect(image).toMatchObject({ SharedSize: 0, Containers: users });
    expect(users).toBeGreaterThanOrEqual(1);
    const row = all.Containers.find((x) => x.Names[0] === '/tsc-df');
    expect(row?.SizeRw).toBeGreaterThanOrEqual(3000);
    expect(row?.SizeRootFs).toBe((row?.SizeRw ?? 0) + (image?.Size ?? 0));
    expect(all.Volumes.find((v) => v.Name === 'tsc-test-df-vol')?.UsageData).toEqual({
      Size: 1234,
      RefCount: 1,
    });
    expect(all.BuildCache).toEqual([]);
    const onlyVolumes = JSON.parse(
      (await request(home.socket, 'GET', '/v1.47/system/df?type=volume')).body.toString(),
    ) as Record<string, unknown>;
    expect(onlyVolumes).toMatchObject({ Images: null, Containers: null, LayersSize: 0 });
    const bad = await request(home.socket, 'GET', '/v1.47/system/df?type=bogus');
    expect(bad.status).toBe(400);
    expect(message(bad)).toBe('unknown object type: bogus');
    const summary = (await dockerCli(home, 'system', 'df')).stdout;
    expect(summary).toMatch(/^Images\s+1\s+1\s/m);
    expect(summary).toMatch(/^Local Volumes\s+1\s+1\s/m);
    const verbose = (await dockerCli(home, 'system', 'df', '-v')).stdout;
    expect(verbose).toMatch(/tsc-test-df-vol\s+1\s+1\.234kB/);
    expect(verbose).toContain('tsc-df');
    await c.remove({ v: true });
    await docker.getVolume('tsc-test-df-vol').remove();
  });

  it('saves images that our engine and a real dockerd load (docker save / load)', async () => {
    await docker.getImage('busybox:1.36').tag({ repo: 'tsc-test-save', tag: '1' });
    const file = join(home.dir, 'save.tar');
    await dockerCli(home, 'save', '-o', file, 'tsc-test-save:1');
    const entries = await untar(readFileSync(file));
    const manifest = JSON.parse(entries.get('manifest.json')?.body ?? '[]') as Array<{
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }>;
    expect(manifest).toHaveLength(1);
    expect(manifest[0]?.RepoTags).toEqual(['tsc-test-save:1']);
    expect(entries.has(manifest[0]?.Config ?? '')).toBe(true);
    for (const l of manifest[0]?.Layers ?? []) expect(entries.has(l)).toBe(true);
    expect(Object.keys(JSON.parse(entries.get('repositories')?.body ?? '{}') as object)).toEqual([
      'tsc-test-save',
    ]);
    const missing = await request(home.socket, 'GET', '/v1.47/images/nope:1/get');
    expect(missing.status).toBe(404);
    expect(message(missing)).toBe('No such image: nope:1');

    await dockerCli(home, 'rmi', 'tsc-test-save:1');
    const loaded = await dockerCli(home, 'load', '-i', file);
    expect(loaded.stdout).toContain('Loaded image: tsc-test-save:1');
    const run = await dockerCli(
      home,
      'run',
      '--rm',
      '--network',
      'none',
      'tsc-test-save:1',
      'echo',
      'ok',
    );
    expect(run.stdout).toBe('ok\n');
    await dockerCli(home, 'rmi', 'tsc-test-save:1');

    let real: TestDockerd | undefined;
    try {
      real = await startDockerd();
      expect(real.docker(['load', '-i', file])).toContain('Loaded image: tsc-test-save:1');
      expect(
        real.docker(['run', '--rm', '--network', 'none', 'tsc-test-save:1', 'echo', 'ok']),
      ).toBe('ok\n');
    } finally {
      if (real) await stopDockerd(real);
    }
  });

  it('imports a rootfs tar with --change and --message (docker import)', async () => {
    const file = join(home.dir, 'rootfs.tar');
    writeFileSync(
      file,
      await makeTar([
        { name: 'bin', type: 'directory' },
        { name: 'bin/busybox', body: readFileSync('/bin/busybox'), mode: 0o755 },
        { name: 'bin/sh', type: 'symlink', linkname: 'busybox' },
        { name: 'hello.txt', body: 'imported\n' },
      ]),
    );
    const imported = await dockerCli(
      home,
      'import',
      '-c',
      'CMD ["/bin/sh", "-c", "cat /hello.txt; echo $GREETING"]',
      '-c',
      'ENV GREETING=hi',
      '-m',
      'from a tar',
      file,
      'tsc-test-import:1',
    );
    expect(imported.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const info = await docker.getImage('tsc-test-import:1').inspect();
    expect(info.Id).toBe(imported.stdout.trim());
    expect(info.Config.Env).toContain('GREETING=hi');
    const history = await docker.getImage('tsc-test-import:1').history();
    expect(history.map((h: { Comment: string }) => h.Comment)).toContain('from a tar');
    const run = await dockerCli(home, 'run', '--rm', '--network', 'none', 'tsc-test-import:1');
    expect(run.stdout).toBe('imported\nhi\n');
    await dockerCli(home, 'rmi', 'tsc-test-import:1');

    // not a tar: the error reaches the client (the stream had begun) and no image is left
    writeFileSync(join(home.dir, 'junk.tar'), 'not a tar at all');
    await expect(
      dockerCli(home, 'import', join(home.dir, 'junk.tar'), 'tsc-test-import:junk'),
    ).rejects.toThrow();
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? [])).not.toContain(
      'tsc-test-import:junk',
    );
    const url = await request(
      home.socket,
      'POST',
      '/v1.47/images/create?fromSrc=http%3A%2F%2F127.0.0.1%3A1%2Fr.tar&repo=tsc-test-import',
    );
    expect(url.status).toBe(501);
    expect(message(url)).toContain('image import from a URL is not supported');
  });

  it('answers bad requests with Docker status codes and bodies', async () => {
    const unknownImage = await request(
      home.socket,
      'POST',
      '/v1.47/containers/create',
      JSON.stringify({ Image: 'nope:1' }),
    );
    expect(unknownImage.status).toBe(404);
    expect(JSON.parse(unknownImage.body.toString())).toEqual({ message: 'No such image: nope:1' });

    const first = await docker.createContainer({
      Image: 'busybox:1.36',
      name: 'tsc-conflict',
      HostConfig: { NetworkMode: 'none' },
    });
    const dup = await request(
      home.socket,
      'POST',
      '/v1.47/containers/create?name=tsc-conflict',
      JSON.stringify({ Image: 'busybox:1.36', HostConfig: { NetworkMode: 'none' } }),
    );
    expect(dup.status).toBe(409);
    expect(JSON.parse(dup.body.toString())).toEqual({
      message: `Conflict. The container name "/tsc-conflict" is already in use by container "${first.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    });

    // an invalid image name is refused before the pull stream begins (it was a 200, empty body)
    for (const [q, msg] of [
      [
        'fromImage=BusyBox&tag=1.36',
        'invalid reference format: repository name (library/BusyBox) must be lowercase',
      ],
      ['fromImage=busybox&tag=b%40d', 'invalid reference format'],
    ] as const) {
      const bad = await request(home.socket, 'POST', `/v1.47/images/create?${q}`);
      expect(bad.status).toBe(400);
      expect(message(bad)).toBe(msg);
    }

    const badJson = await request(home.socket, 'POST', '/v1.47/containers/create', '{nope');
    expect(badJson.status).toBe(400);
    expect(message(badJson)).toMatch(/^invalid JSON: /);

    // dockerd ignores fields it does not know (top level and nested) and creates the container
    const unknown = await request(
      home.socket,
      'POST',
      '/v1.47/containers/create?name=tsc-unknown-fields',
      JSON.stringify({
        Image: 'busybox:1.36',
        Bogus: 1,
        HostConfig: { NetworkMode: 'none', AlsoBogus: true },
      }),
    );
    expect(unknown.status).toBe(201);
    expect(JSON.parse(unknown.body.toString())).toMatchObject({ Warnings: [] });

    const traversal = await request(
      home.socket,
      'PUT',
      archivePath('tsc-conflict', '/tmp'),
      await makeTar([{ name: '../tsc-test-evil', body: 'x' }]),
      'application/x-tar',
    );
    expect(traversal.status).toBe(400);
    expect(JSON.parse(traversal.body.toString())).toEqual({
      message: '"../tsc-test-evil" is outside of "/tmp"',
    });
    await first.remove();
    await docker.getContainer('tsc-unknown-fields').remove();
  });
});
