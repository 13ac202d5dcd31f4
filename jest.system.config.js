const base = require('./jest.config');
const { systemPaths } = require('./test/system-suites');

/** The suites `npm test` leaves out: each needs a system tool (test/system-suites.js). */
module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: systemPaths.map((p) =>
    p.endsWith('/') ? `<rootDir>/${p}**/*.test.ts` : `<rootDir>/${p}`,
  ),
};
