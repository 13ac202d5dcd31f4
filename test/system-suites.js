/*
 * The suites that need system tools beyond Node, MySQL and Redis, and those tools. `npm test`
 * leaves these suites out (jest.config.js); `npm run test:system` checks the tools first (run
 * this file) and runs only them (jest.system.config.js).
 */
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');

const suites = [
  {
    path: 'test/galera/',
    tools: ['mariadbd', 'mariadb-install-db', 'rsync', 'ss'],
    files: ['/usr/lib/galera/libgalera_smm.so'],
    packages: ['mariadb-server', 'galera-4', 'rsync', 'iproute2'],
  },
  {
    path: 'test/security/nginx-proxy.test.ts',
    tools: ['nginx', 'openssl'],
    packages: ['nginx', 'openssl'],
  },
  {
    path: 'test/observability/real-prometheus.test.ts',
    tools: ['prometheus'],
    packages: ['prometheus'],
  },
  { path: 'test/observability/alert-rules.test.ts', tools: ['promtool'], packages: ['prometheus'] },
  { path: 'test/system/', tools: ['chromium'], packages: ['chromium'] },
  { path: 'test/bench/', tools: ['wrk'], packages: ['wrk'] },
  {
    path: 'test/image/',
    tools: ['podman', 'runc', 'debootstrap', 'slirp4netns'],
    packages: ['podman', 'runc', 'debootstrap', 'slirp4netns'],
  },
];

function onPath(tool) {
  const where = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (where.status === 0) return true;
  // Debian keeps mariadbd and nginx in sbin, not always on a user's PATH.
  return ['/usr/sbin/', '/usr/bin/'].some((dir) => existsSync(dir + tool));
}

module.exports = { systemPaths: suites.map((s) => s.path) };

if (require.main === module) {
  const missing = suites.filter(
    (s) => s.tools.some((t) => !onPath(t)) || (s.files ?? []).some((f) => !existsSync(f)),
  );
  if (missing.length > 0) {
    const packages = [...new Set(missing.flatMap((s) => s.packages))];
    console.error(`test:system: missing tools for ${missing.map((s) => s.path).join(', ')}`);
    console.error(`install them with: sudo apt-get install -y ${packages.join(' ')}`);
    process.exit(1);
  }
}
