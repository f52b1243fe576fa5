import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_SOCKET, loadEngineConfig, resolveConfig } from '../../../../engine/config';
import { parseDaemonArgs } from '../../../../engine/daemon';

describe('engine/config', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'tsc-test-cfg-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to the documented paths', () => {
    const c = resolveConfig();
    expect(c).toMatchObject({
      dataRoot: '/var/lib/tscompose',
      socket: DEFAULT_SOCKET,
      pidFile: '/run/tscompose/engine.pid',
      logFile: '/var/lib/tscompose/engine.log',
      logDriver: 'json-file',
      registryMirrors: [],
    });
  });

  it('reads a file with dockerd-style keys, flags winning', () => {
    const f = join(dir, 'engine.json');
    writeFileSync(
      f,
      JSON.stringify({
        'data-root': '/srv/tsc',
        'registry-mirrors': ['https://mirror.example'],
        'insecure-registries': ['127.0.0.1:5000'],
        'default-address-pools': [{ base: '10.10.0.0/16', size: 24 }],
        'log-opts': { 'max-size': '10m' },
      }),
    );
    const c = loadEngineConfig(f, { socket: '/tmp/x.sock' });
    expect(c).toMatchObject({
      dataRoot: '/srv/tsc',
      socket: '/tmp/x.sock',
      logFile: '/srv/tsc/engine.log',
      registryMirrors: ['https://mirror.example'],
      insecureRegistries: ['127.0.0.1:5000'],
      defaultAddressPools: [{ base: '10.10.0.0/16', size: 24 }],
      logOpts: { 'max-size': '10m' },
    });
  });

  it('refuses unknown keys, relative paths, bad JSON and a missing explicit file', () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ 'data-root': 'rel', colour: 1 }));
    expect(() => loadEngineConfig(f)).toThrow(
      /data-root: must be an absolute path.*colour|colour.*data-root: must be an absolute path/,
    );
    writeFileSync(f, '{');
    expect(() => loadEngineConfig(f)).toThrow(/invalid JSON/);
    expect(() => loadEngineConfig(join(dir, 'none.json'))).toThrow(/read engine config/);
  });

  it('parses the daemon flags', () => {
    expect(
      parseDaemonArgs(['--config', '/c.json', '--socket=/s', '--data-root', '/d', '--debug']),
    ).toEqual({
      configPath: '/c.json',
      overrides: { socket: '/s', 'data-root': '/d', debug: true },
    });
    expect(() => parseDaemonArgs(['--what', 'x'])).toThrow('unknown flag');
  });
});
