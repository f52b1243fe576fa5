// Runs the engine daemon (engine/daemon.ts with the containers plugin) as its own process for the
// integration tests, compiling TypeScript on the fly with @swc/core, so tests can SIGKILL it.
// Usage: node test/helpers/engine-daemon.js --data-root <dir> --socket <sock> --pidfile <file>
const fs = require('node:fs');
const Module = require('node:module');
const swc = require('@swc/core');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  try {
    return resolve.call(this, request, parent, ...rest);
  } catch (err) {
    if (request.startsWith('.') && request.endsWith('.js'))
      return resolve.call(this, `${request.slice(0, -3)}.ts`, parent, ...rest);
    throw err;
  }
};
require.extensions['.ts'] = (module, filename) => {
  const out = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(out.code, filename);
};

const { runForeground } = require('../../engine/daemon.ts');
const { containersPlugin } = require('../../engine/containers/index.ts');
runForeground(process.argv.slice(2), { plugins: [containersPlugin()] }).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err && err.stack ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
