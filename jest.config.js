// Test tiers (docs/architecture.md): unit runs anywhere; integration and e2e need Linux + root
// and fail loudly (never skip) when CI=true.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };
const moduleNameMapper = { '^(\\.{1,2}/.*)\\.js$': '$1' };
const common = { transform, moduleNameMapper, testEnvironment: 'node' };

/** @type {import('jest').Config} */
module.exports = {
  // One test file at a time on every host: the integration and e2e suites share host state (the
  // TSCOMPOSE-* iptables chains, ip_forward, one engine or dockerd at a time), so two of them must
  // never run at once; on the 2-core machines jest picks one worker anyway.
  maxWorkers: 1,
  reporters: ['default', '<rootDir>/test/helpers/totals-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/links-before.js',
      globalTeardown: '<rootDir>/test/helpers/leftovers.js',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/links-before.js',
      globalTeardown: '<rootDir>/test/helpers/leftovers.js',
    },
  ],
};
