import { parseChanges } from '../../../../engine/images/archive.js';

describe('parseChanges', () => {
  it('applies docker import --change instructions in order', () => {
    expect(
      parseChanges([
        'CMD ["/bin/sh", "-c", "echo hi"]',
        'ENTRYPOINT /entry.sh --flag',
        'ENV A=1 B="two words"',
        'ENV A=3',
        'env LEGACY value with spaces',
        'WORKDIR /srv',
        'WORKDIR app',
        'EXPOSE 80 53/udp 8000-8001',
        'USER 1000:1000',
        'LABEL org.example.a=x "org.example.b"="y z"',
        'VOLUME ["/data", "/logs"]',
        'STOPSIGNAL SIGQUIT',
      ]),
    ).toEqual({
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: ['/bin/sh', '-c', '/entry.sh --flag'],
      Env: ['A=3', 'B=two words', 'LEGACY=value with spaces'],
      WorkingDir: '/srv/app',
      ExposedPorts: { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} },
      User: '1000:1000',
      Labels: { 'org.example.a': 'x', 'org.example.b': 'y z' },
      Volumes: { '/data': {}, '/logs': {} },
      StopSignal: 'SIGQUIT',
    });
  });

  it('keeps the base config and overrides it', () => {
    expect(parseChanges(['CMD ["b"]'], { Cmd: ['a'], Env: ['X=1'] })).toEqual({
      Cmd: ['b'],
      Env: ['X=1'],
    });
  });

  it('rejects instructions docker import does not accept', () => {
    expect(() => parseChanges(['RUN echo'])).toThrow('run is not a valid change command');
    expect(() => parseChanges(['EXPOSE http'])).toThrow(/invalid port/);
    expect(() => parseChanges(['CMD'])).toThrow(/requires at least one argument/);
  });
});
