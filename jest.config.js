const { systemPaths } = require('./test/system-suites');

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Suites that need nginx, Prometheus, Galera or Chromium run with `npm run test:system`.
  testPathIgnorePatterns: ['/node_modules/', ...systemPaths.map((p) => `<rootDir>/${p}`)],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  // Component tests each create their own database and Redis prefix, so files run in parallel.
  maxWorkers: 2,
};
