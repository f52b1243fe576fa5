#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS TSCOMPOSE_SAVED_NODE_EXTRA_CA_CERTS=${NODE_EXTRA_CA_CERTS} node --
/**
 * The installed `tscompose` executable: runs the bundled CLI (tscompose.bundle.js beside it, made
 * by cli/make-bundle.ts) through V8's code cache, so a command starts in about a third of the
 * time of loading ~400 modules one by one. Owns the cache file only; every behaviour is in main.ts.
 *
 * The `#!` line (GNU env(1) `-S`, coreutils >= 8.30) starts node without `NODE_EXTRA_CA_CERTS`:
 * Node 20 reads and parses that file, and builds its root certificate store, before any
 * JavaScript runs (~50-80 ms per command on the 2-vCPU VM), and this process makes no TLS
 * connection (the CLI talks plain HTTP to a unix socket or `tcp://`; registries are the
 * daemon's). The value travels in `TSCOMPOSE_SAVED_NODE_EXTRA_CA_CERTS` and is put back by
 * {@link restoreExtraCaCerts}, so everything the CLI starts (the engine daemon, which pulls over
 * TLS) gets the user's environment unchanged. The final `--` ends node's own options: Node 20
 * otherwise acts on `--env-file` anywhere on its command line, even after the script (`tscompose
 * --env-file x config` would load x into node's environment, or exit 9 when x is missing).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

import type * as Main from './main.js';

/** The bundle this launcher runs. */
const BUNDLE = path.join(__dirname, 'tscompose.bundle.js');

/**
 * V8's code cache for {@link BUNDLE}: the bytecode of every function the previous command
 * compiled. V8 checks its own version, flags and the source hash and rejects a cache that does
 * not match (node/V8 upgrade, rebuilt bundle); the launcher then writes a new one.
 */
const CACHE = `${BUNDLE}.cache`;

function readCache(): Buffer | undefined {
  try {
    return fs.readFileSync(CACHE);
  } catch {
    return undefined;
  }
}

/**
 * Writes the code cache through a temporary file and a rename, so a concurrent command reads
 * either no cache or a whole one. Best effort: a read-only install just runs without a cache.
 */
function writeCache(script: vm.Script): void {
  const tmp = `${CACHE}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, script.createCachedData());
    fs.renameSync(tmp, CACHE);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Compiles and runs the bundle as a CommonJS module (Node's own wrapper; its first line is kept
 * so stack traces keep their line numbers) and returns its exports.
 */
function loadBundle(): { main: typeof Main.main; script: vm.Script; cached: boolean } {
  const source = fs.readFileSync(BUNDLE, 'utf8').replace(/^#!.*/, '');
  const cachedData = readCache();
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) { ${source}\n})`,
    { filename: BUNDLE, ...(cachedData ? { cachedData } : {}) },
  );
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  wrapper.call(mod.exports, mod.exports, createRequire(BUNDLE), mod, BUNDLE, __dirname);
  const { main } = mod.exports as typeof Main;
  return { main, script, cached: cachedData !== undefined && !script.cachedDataRejected };
}

/**
 * Puts back the `NODE_EXTRA_CA_CERTS` the `#!` line moved aside (unset when it was unset or
 * empty) and drops the carrier variable. Nothing happens when node ran this file directly
 * (`node tscompose.js`: the variable was never moved). Mutates `env`.
 */
function restoreExtraCaCerts(env: NodeJS.ProcessEnv): void {
  const saved = env['TSCOMPOSE_SAVED_NODE_EXTRA_CA_CERTS'];
  if (saved === undefined) return;
  delete env['TSCOMPOSE_SAVED_NODE_EXTRA_CA_CERTS'];
  if (saved !== '') env['NODE_EXTRA_CA_CERTS'] = saved;
}

restoreExtraCaCerts(process.env);
const { main, script, cached } = loadBundle();
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // written after the command, so it holds the functions this command compiled as well
  if (!cached) writeCache(script);
  // open API sockets or a finished log stream must not keep the command alive
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
});
