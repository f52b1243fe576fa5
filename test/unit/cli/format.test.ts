// Output formatting of the listing commands: tables, Go-template subset, ports, durations, ps rows.
import type { ContainerInfo } from 'dockerode';

import { lsRows } from '../../../cli/commands/ls';
import { publishedAddress } from '../../../cli/commands/port';
import { psCommand, psRow, renderPs } from '../../../cli/commands/ps';
import { renderTop } from '../../../cli/commands/top';
import { renderEvent } from '../../../cli/commands/events';
import {
  formatPorts,
  formatRows,
  headerName,
  humanDuration,
  humanSize,
  renderTable,
  renderTemplate,
} from '../../../cli/render/format';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);

function container(over: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    Id: 'abc123',
    Names: ['/demo-web-1'],
    Image: 'busybox:1.36',
    ImageID: 'sha256:0123456789abcdef',
    Command: "sh -c 'sleep 3600 && echo done'",
    Created: NOW / 1000 - 125,
    Ports: [
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 9000, Type: 'tcp' },
    ] as ContainerInfo['Ports'],
    Labels: { 'com.docker.compose.project': 'demo', 'com.docker.compose.service': 'web' },
    State: 'running',
    Status: 'Up 2 minutes',
    HostConfig: { NetworkMode: 'demo_default' },
    NetworkSettings: { Networks: { demo_default: {} as never } },
    Mounts: [],
    ...over,
  };
}

describe('renderTable', () => {
  it('pads every column but the last to its widest cell plus 3 spaces', () => {
    expect(
      renderTable(
        ['NAME', 'STATUS'],
        [
          ['demo-web-1', 'Up'],
          ['x', 'Exited (0)'],
        ],
      ),
    ).toBe('NAME         STATUS\ndemo-web-1   Up\nx            Exited (0)\n');
  });
  it('prints only the header when there are no rows', () => {
    expect(renderTable(['A', 'B'], [])).toBe('A   B\n');
  });
});

describe('renderTemplate', () => {
  const row = {
    Name: 'demo-web-1',
    State: 'running',
    Publishers: [{ URL: '0.0.0.0', PublishedPort: 8080 }],
  };
  it('substitutes fields and docker escapes', () => {
    expect(renderTemplate('{{.Name}}\\t{{ .State }}', row)).toBe('demo-web-1\trunning');
  });
  it('supports json, upper and nested fields', () => {
    expect(renderTemplate('{{json .Publishers}}', row)).toBe(
      '[{"URL":"0.0.0.0","PublishedPort":8080}]',
    );
    expect(renderTemplate('{{upper .State}}', row)).toBe('RUNNING');
    expect(renderTemplate('{{json .}}', { A: 1 })).toBe('{"A":1}');
    expect(renderTemplate('{{.A.B}}', { A: { B: 'x' } })).toBe('x');
  });
  it('prints <no value> for a missing field and rejects unsupported actions', () => {
    expect(renderTemplate('{{.Nope}}', row)).toBe('<no value>');
    expect(() => renderTemplate('{{range .Publishers}}x{{end}}', row)).toThrow(
      /unsupported action/,
    );
  });
});

describe('formatRows', () => {
  const rows = [
    { Name: 'a', State: 'running' },
    { Name: 'bb', State: 'exited' },
  ];
  const table = {
    headers: ['NAME', 'STATE'],
    cells: (r: { Name: string; State: string }) => [r.Name, r.State],
  };
  it('json prints one object per line', () => {
    expect(formatRows('json', rows, table)).toBe(
      '{"Name":"a","State":"running"}\n{"Name":"bb","State":"exited"}\n',
    );
  });
  it('a template prints one line per row', () => {
    expect(formatRows('{{.Name}}', rows, table)).toBe('a\nbb\n');
  });
  it('a table template derives its headers from the fields', () => {
    expect(formatRows('table {{.Name}}\\t{{.State}}', rows, table)).toBe(
      'NAME   STATE\na      running\nbb     exited\n',
    );
    expect(headerName('RunningFor')).toBe('CREATED');
    expect(headerName('ExitCode')).toBe('EXIT CODE');
  });
});

describe('ports, durations, sizes', () => {
  it('formats ports like docker', () => {
    expect(formatPorts(container().Ports)).toBe(
      '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 9000/tcp',
    );
    expect(formatPorts([])).toBe('');
  });
  it('says durations like go-units', () => {
    expect(humanDuration(500)).toBe('Less than a second');
    expect(humanDuration(1000)).toBe('1 second');
    expect(humanDuration(42_000)).toBe('42 seconds');
    expect(humanDuration(65_000)).toBe('About a minute');
    expect(humanDuration(125_000)).toBe('2 minutes');
    expect(humanDuration(3_600_000)).toBe('About an hour');
    expect(humanDuration(5 * 86_400_000)).toBe('5 days');
  });
  it('says sizes in decimal units', () => {
    expect(humanSize(1_990_000)).toBe('1.99MB');
    expect(humanSize(512)).toBe('512B');
  });
});

describe('ps', () => {
  it('quotes and cuts the command at 20 characters', () => {
    expect(psCommand('httpd -f')).toBe('"httpd -f"');
    expect(psCommand("sh -c 'sleep 3600 && echo done'")).toBe('"sh -c \'sleep 3600 &…"');
  });
  it('builds docker compose JSON rows with exit code and health from inspect', () => {
    const r = psRow(
      container({ State: 'exited', Status: 'Exited (3) 1 second ago' }),
      { State: { ExitCode: 3, Health: { Status: 'unhealthy' } } } as never,
      NOW,
    );
    expect(r).toMatchObject({
      ID: 'abc123',
      Name: 'demo-web-1',
      Service: 'web',
      Project: 'demo',
      State: 'exited',
      ExitCode: 3,
      Health: 'unhealthy',
      RunningFor: '2 minutes ago',
      CreatedAt: '2026-01-02 03:02:00 +0000 UTC',
      Networks: 'demo_default',
      Ports: '0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 9000/tcp',
    });
    expect(r.Publishers[0]).toEqual({
      URL: '0.0.0.0',
      TargetPort: 80,
      PublishedPort: 8080,
      Protocol: 'tcp',
    });
  });
  it('renders the docker compose table columns', () => {
    const out = renderPs([psRow(container(), undefined, NOW)], 'table');
    const [head, line] = out.split('\n');
    expect(head?.split(/\s{3,}/)).toEqual([
      'NAME',
      'IMAGE',
      'COMMAND',
      'SERVICE',
      'CREATED',
      'STATUS',
      'PORTS',
    ]);
    expect(line).toContain(
      'demo-web-1   busybox:1.36   "sh -c \'sleep 3600 &…"   web       2 minutes ago   Up 2 minutes',
    );
  });
});

describe('port, ls, top, events', () => {
  it('port prints the first binding of the port', () => {
    const ports = {
      '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
      '53/udp': [{ HostIp: '', HostPort: '5353' }],
    };
    expect(publishedAddress(ports, 80, 'tcp')).toBe('127.0.0.1:18080');
    expect(publishedAddress(ports, 53, 'udp')).toBe('0.0.0.0:5353');
    expect(publishedAddress(ports, 80, 'udp')).toBeUndefined();
  });
  it('ls groups containers by project with state counts', () => {
    const rows = lsRows([
      {
        State: 'running',
        Labels: {
          'com.docker.compose.project': 'b',
          'com.docker.compose.project.config_files': '/b/compose.yaml',
        },
      },
      { State: 'exited', Labels: { 'com.docker.compose.project': 'a' } },
      { State: 'running', Labels: { 'com.docker.compose.project': 'a' } },
      { State: 'running', Labels: { 'com.docker.compose.project': 'a' } },
    ]);
    expect(rows).toEqual([
      { Name: 'a', Status: 'exited(1), running(2)', ConfigFiles: '' },
      { Name: 'b', Status: 'running(1)', ConfigFiles: '/b/compose.yaml' },
    ]);
  });
  it('top prints the name then the process table', () => {
    expect(
      renderTop('demo-db-1', {
        Titles: ['UID', 'PID', 'CMD'],
        Processes: [['root', '12', 'sleep 3600']],
      }),
    ).toBe('demo-db-1\nUID    PID   CMD\nroot   12    sleep 3600\n\n');
  });
  it('events render as text and json', () => {
    const e = {
      Action: 'start',
      timeNano: NOW * 1e6 + 123456,
      Actor: {
        ID: 'abc',
        Attributes: { name: 'demo-web-1', image: 'busybox', 'com.docker.compose.service': 'web' },
      },
    };
    expect(renderEvent(e, false)).toBe(
      '2026-01-02 03:04:05.000123 container start abc (image=busybox, name=demo-web-1)',
    );
    expect(JSON.parse(renderEvent(e, true))).toMatchObject({
      action: 'start',
      id: 'abc',
      service: 'web',
    });
  });
});
