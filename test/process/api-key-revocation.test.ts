import { createTestDatabase, dropDatabase, JWT_SECRET, uniqueName } from '../helpers/harness';
import { PrivateRedis, startPrivateRedis } from '../helpers/private-redis';
import { Service, startRole } from '../helpers/service-process';

/*
 * Two real `api` processes on one database and one Redis: a key revoked through one is refused
 * by the other within a second, by the pub/sub message while Redis is up and by the cache's
 * short TTL while it is not. Redis is the test's own, so it can be killed.
 */
const ADMIN = 'Basic ' + Buffer.from('admin:admin-password').toString('base64');

let redis: PrivateRedis;
let databaseUrl: string;
let a: Service;
let b: Service;

beforeAll(async () => {
  redis = await startPrivateRedis();
  databaseUrl = await createTestDatabase();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    REDIS_PREFIX: uniqueName('keys'),
    JWT_SECRET,
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: 'admin-password',
  };
  a = await startRole('api', { ...env, MIGRATE_ON_START: 'true' }, { timeoutMs: 60_000 });
  b = await startRole('api', env, { timeoutMs: 60_000 });
}, 120_000);
afterAll(async () => {
  await redis?.ensureRunning();
  await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
  await redis?.stop();
  if (databaseUrl) await dropDatabase(databaseUrl);
});

async function createKey(): Promise<{ id: string; key: string }> {
  const res = await fetch(`${a.base}/api-keys`, {
    method: 'POST',
    headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
    body: JSON.stringify({ role: 'manager' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; key: string };
}

const use = async (service: Service, key: string) =>
  (await fetch(`${service.base}/orders`, { headers: { 'X-API-Key': key } })).status;

async function revoke(id: string): Promise<void> {
  const res = await fetch(`${a.base}/api-keys/${id}`, {
    method: 'DELETE',
    headers: { Authorization: ADMIN },
  });
  expect(res.status).toBe(204);
}

/** Milliseconds from now until `service` refuses `key`, polling every 20 ms (at most 5 s). */
async function msUntilRefused(service: Service, key: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < 5000) {
    if ((await use(service, key)) === 401) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Infinity;
}

it('refuses a key revoked through one api process on the other within a second', async () => {
  const { id, key } = await createKey();
  // Warm the second process's cache: its copy would be trusted for 10 s without the message.
  for (let i = 0; i < 3; i++) expect(await use(b, key)).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(await use(b, key)).toBe(200);
  await revoke(id);
  expect(await msUntilRefused(b, key)).toBeLessThan(1000);
});

it('still refuses a revoked key within a second, and accepts a valid one, while Redis is down', async () => {
  const revoked = await createKey();
  const valid = await createKey();
  for (const { key } of [revoked, valid]) expect(await use(b, key)).toBe(200);
  await redis.stop();
  await revoke(revoked.id);
  expect(await msUntilRefused(b, revoked.key)).toBeLessThan(1000);
  // Valid keys keep working: the rate limits count in memory, the key is read from MySQL.
  expect(await use(b, valid.key)).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(await use(b, valid.key)).toBe(200);
  await redis.start();
});
