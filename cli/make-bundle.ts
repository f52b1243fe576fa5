/**
 * Build step (run by `npm run build` after tsc): bundles the compiled CLI (dist/cli/main.js and
 * everything it imports) into one file, dist/cli/tscompose.bundle.js, that cli/tscompose.ts runs
 * through V8's code cache. Owns only the bundle's layout; it never runs a command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { build, type Plugin } from 'esbuild';

import { TscError } from '../base/errors.js';

/** Where the bundle is written, beside the compiled CLI (dist/cli/). */
export const BUNDLE_FILE = 'tscompose.bundle.js';

/**
 * Modules dockerode loads at start that a tscompose command does not need then:
 * - dockerode's BuildKit session (gRPC + protobuf, ~75 ms to load, ~0.9 MB) and docker-modem's ssh
 *   transport (ssh2, ~40 ms, ~0.7 MB): each exports a single function, so the bundle puts a
 *   same-shaped function in its place (`kind: 'function'`) that requires the real module from
 *   node_modules on its first call, and the bundle does not carry them at all;
 * - Node's `https` in docker-modem's redirect wrapper (with tls and crypto, ~8 ms), and `tar-fs`
 *   and `zlib` in dockerode's build-context helpers (~10 ms): the API is plain HTTP and no command
 *   builds images, so a proxy object (`kind: 'object'`) requires each on the first property read
 *   (they still work when reached, loaded late).
 * Keys: the importing file (path suffix), the specifier it uses, what the proxy requires.
 */
const LAZY_MODULES: readonly {
  importer: RegExp;
  specifier: string;
  external: string;
  kind: 'function' | 'object';
}[] = [
  {
    importer: /[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    specifier: './session',
    external: 'dockerode/lib/session.js',
    kind: 'function',
  },
  {
    importer: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    specifier: './ssh',
    external: 'docker-modem/lib/ssh.js',
    kind: 'function',
  },
  {
    importer: /[\\/]docker-modem[\\/]lib[\\/]http\.js$/,
    specifier: 'https',
    external: 'https',
    kind: 'object',
  },
  {
    importer: /[\\/]dockerode[\\/]lib[\\/]util\.js$/,
    specifier: 'tar-fs',
    external: 'tar-fs',
    kind: 'object',
  },
  {
    importer: /[\\/]dockerode[\\/]lib[\\/]util\.js$/,
    specifier: 'zlib',
    external: 'zlib',
    kind: 'object',
  },
];

/** The proxy module's source for one {@link LAZY_MODULES} entry. */
function proxySource(m: (typeof LAZY_MODULES)[number]): string {
  const real = `require(${JSON.stringify(m.external)})`;
  if (m.kind === 'function')
    return `module.exports = function () {\n  return ${real}.apply(this, arguments);\n};\n`;
  // every read goes to the real module, loaded on the first one; writes land on the reader
  return (
    `module.exports = new Proxy({}, {\n` +
    `  get: (_t, k) => ${real}[k],\n` +
    `  has: (_t, k) => k in ${real},\n` +
    `});\n`
  );
}

/** The esbuild plugin that swaps each {@link LAZY_MODULES} import for a load-on-use proxy. */
function lazyModules(): Plugin {
  return {
    name: 'tscompose-lazy-modules',
    setup(b) {
      const seen = new Set<string>();
      const specifiers = [...new Set(LAZY_MODULES.map((m) => m.specifier))];
      const filter = new RegExp(
        `^(${specifiers.map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`,
      );
      b.onResolve({ filter }, (args) => {
        const hit = LAZY_MODULES.find(
          (m) => m.specifier === args.path && m.importer.test(args.importer),
        );
        if (!hit) return undefined;
        seen.add(hit.specifier);
        return { path: hit.specifier, namespace: 'tscompose-lazy', pluginData: hit };
      });
      b.onResolve({ filter: /.*/, namespace: 'tscompose-lazy' }, (args) => ({
        path: args.path,
        external: true,
      }));
      b.onLoad({ filter: /.*/, namespace: 'tscompose-lazy' }, (args) => ({
        contents: proxySource(args.pluginData as (typeof LAZY_MODULES)[number]),
        loader: 'js',
      }));
      b.onEnd((result) => {
        if (result.errors.length > 0) return;
        const missing = LAZY_MODULES.filter((m) => !seen.has(m.specifier));
        if (missing.length > 0)
          result.errors.push({
            id: 'lazy',
            pluginName: 'tscompose-lazy-modules',
            text: `lazy module not found (dockerode changed?): ${missing.map((m) => m.specifier).join(', ')}`,
            location: null,
            notes: [],
            detail: undefined,
          });
      });
    },
  };
}

/**
 * Throws when the bundle has a byte outside ASCII. esbuild escapes non-ASCII text in strings but
 * not in regular expression literals; one such character makes V8 hold the whole 1.3 MB source
 * as a two-byte string, which costs every command a few ms to decode, hash and scan.
 */
function assertAscii(file: string): void {
  const bytes = fs.readFileSync(file);
  const at = bytes.findIndex((b) => b > 0x7f);
  if (at >= 0) {
    const around = bytes.subarray(Math.max(0, at - 60), at + 20).toString('utf8');
    throw new TscError('TSC_BUILD', `${file}: non-ASCII byte at offset ${at}: ${around}`, {
      hint: 'write the character as a \\u escape in the source',
    });
  }
}

/**
 * Bundles `<distCli>/main.js` into `<distCli>/tscompose.bundle.js` (CommonJS, Node 20, minified,
 * ASCII only) and removes a stale code cache beside it. Native
 * addons (`*.node`) stay external; modules loaded with createRequire at run time stay outside
 * the bundle and resolve from node_modules as before. Throws esbuild's error on failure, and
 * TscError TSC_BUILD when the bundle is not pure ASCII.
 */
export async function makeBundle(distCli: string): Promise<string> {
  const outfile = path.join(distCli, BUNDLE_FILE);
  await build({
    entryPoints: [path.join(distCli, 'main.js')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    external: ['*.node'],
    plugins: [lazyModules()],
    logLevel: 'warning',
  });
  assertAscii(outfile);
  fs.rmSync(`${outfile}.cache`, { force: true });
  return outfile;
}

if (require.main === module) {
  makeBundle(__dirname).catch((e: unknown) => {
    const hint = e instanceof TscError && e.hint !== undefined ? ` (hint: ${e.hint})` : '';
    process.stderr.write(`make-bundle: ${e instanceof Error ? e.message : String(e)}${hint}\n`);
    process.exit(1);
  });
}
