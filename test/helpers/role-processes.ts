import { deletePrefixes } from './redis-keys';
import { createTestDatabase, dropDatabase, REDIS_URL, uniqueName } from './harness';
import { Service, startRole } from './service-process';

export const ADMIN_AUTH = 'Basic ' + Buffer.from('admin:admin-password').toString('base64');

/**
 * Real `dist/main.js` processes of a test file on a database and Redis prefix of its own,
 * created before its tests and, with every process still running stopped, removed after.
 */
export function useRoleProcesses(name: string, baseEnv: Record<string, string> = {}) {
  const prefix = uniqueName(name);
  const running: Service[] = [];
  let databaseUrl = '';
  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of running) if (s.child.exitCode === null && !s.child.signalCode) await s.stop();
    await deletePrefixes(REDIS_URL, [prefix]);
    await dropDatabase(databaseUrl);
  });
  const env = (extra: Record<string, string> = {}) => ({
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'x'.repeat(32),
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: 'admin-password',
    ...baseEnv,
    ...extra,
  });
  return {
    prefix,
    databaseUrl: () => databaseUrl,
    env,
    /** Starts a role with the file's settings (and `extra`); stopped after the file's tests. */
    async start(role: 'api' | 'worker' | 'all', extra: Record<string, string> = {}) {
      const service = await startRole(role, env(extra));
      running.push(service);
      return service;
    },
  };
}
