// build: string -> {context}; defaults; args resolved from the environment.
import { web } from './helpers';

describe('build', () => {
  test('string form', () => {
    expect(web('services: {web: {build: ./app}}').build).toEqual({
      context: '/proj/app',
      dockerfile: 'Dockerfile',
    });
  });
  test('defaults and args', () => {
    const s = web('services: {web: {build: {args: [A=1, FROM_ENV, UNSET], shm_size: 1g}}}', {
      FROM_ENV: 'e',
    });
    expect(s.build).toEqual({
      context: '/proj',
      dockerfile: 'Dockerfile',
      args: { A: '1', FROM_ENV: 'e' },
      shm_size: 1073741824,
    });
  });
  test('URL contexts stay as they are; dockerfile_inline skips the default dockerfile', () => {
    const s = web(
      'services: {web: {build: {context: "https://github.com/a/b.git#main", dockerfile_inline: "FROM x"}}}',
    );
    expect(s.build).toEqual({
      context: 'https://github.com/a/b.git#main',
      dockerfile_inline: 'FROM x',
    });
  });
});
