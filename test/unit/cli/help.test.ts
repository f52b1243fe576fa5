// --help in docker compose v2's layout (cli/render/help.ts): usage line, sorted options with pflag
// value types and defaults, no --help entry, commands by name, the footer for command groups.
import type { Command } from 'commander';

import { buildProgram, main } from '../../../cli/main';

function help(...path: string[]): string {
  let c: Command = buildProgram();
  for (const name of path) {
    const next = c.commands.find((x) => x.name() === name);
    if (!next) throw new Error(`no command ${name}`);
    c = next;
  }
  return c.helpInformation();
}

describe('help text', () => {
  it('root help must read like docker compose --help', () => {
    const text = help();
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'Usage:  tscompose [OPTIONS] COMMAND',
      '',
      'Define and run multi-container applications with tscompose',
    ]);
    expect(text).toContain('\n  -f, --file stringArray           Compose configuration files\n');
    expect(text).toContain(
      '\n      --env-file stringArray       Specify an alternate environment file\n',
    );
    const commands = lines
      .slice(lines.indexOf('Commands:') + 1)
      .filter((l) => l.startsWith('  '))
      .map((l) => l.trim().split(/\s+/)[0]);
    expect(commands).toEqual([...commands].sort());
    expect(commands).toEqual(expect.arrayContaining(['up', 'down', 'ps', 'exec', 'run']));
    expect(commands).not.toContain('help');
    expect(text.trimEnd().split('\n').pop()).toBe(
      "Run 'tscompose COMMAND --help' for more information on a command.",
    );
  });

  it('up --help must list options sorted by name with their types, without --help', () => {
    const text = help('up');
    expect(
      text.startsWith(
        'Usage:  tscompose up [OPTIONS] [SERVICE...]\n\nCreate and start containers\n\nOptions:\n',
      ),
    ).toBe(true);
    const names = text
      .split('\n')
      .filter((l) => /^ {2}(-\w, |\s{4})--/.test(l))
      .map((l) => /--([\w-]+)/.exec(l)?.[1] ?? '');
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain('help');
    expect(text).toContain('\n  -d, --detach ');
    expect(text).toContain('\n  -t, --timeout int ');
    expect(text).toContain('\n      --wait-timeout int ');
    expect(text).toMatch(
      /--pull string +Pull image before running \("always"\|"missing"\|"never"\) \(default "policy"\)\n/,
    );
  });

  it('usage lines must use docker compose argument names', () => {
    const first = (...p: string[]): string => help(...p).split('\n')[0] ?? '';
    expect(first('exec')).toBe('Usage:  tscompose exec [OPTIONS] SERVICE COMMAND [ARGS...]');
    expect(first('run')).toBe('Usage:  tscompose run [OPTIONS] SERVICE [COMMAND] [ARGS...]');
    expect(first('port')).toBe('Usage:  tscompose port [OPTIONS] SERVICE PRIVATE_PORT');
    expect(first('start')).toBe('Usage:  tscompose start [SERVICE...]');
    expect(first('top')).toBe('Usage:  tscompose top [SERVICES...]');
    expect(first('engine')).toBe('Usage:  tscompose engine COMMAND');
    expect(help('port')).toContain(
      '--index int         Index of the container if service has multiple replicas (default 1)',
    );
  });
});

describe('tscompose without arguments', () => {
  it('must print the root help on stdout and exit 0', async () => {
    let out = '';
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      expect(await main([])).toBe(0);
    } finally {
      write.mockRestore();
    }
    expect(out).toBe(buildProgram().helpInformation());
    expect(out.startsWith('Usage:  tscompose [OPTIONS] COMMAND\n')).toBe(true);
  });
});
