import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, dropDatabase, orderBody, waitUntil } from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { startRole } from '../helpers/service-process';

/*
 * Two `npm start` instances on their own databases and one Redis, neither setting
 * REDIS_PREFIX: each must process its own orders only.
 */
const AUTH = {
  Authorization: 'Basic ' + Buffer.from('admin:admin-password').toString('base64'),
  'Content-Type': 'application/json',
};
const ORDERS_EACH = 20;

interface Instance {
  child: ChildProcess;
  lines: string[];
  base: string;
  metrics: string;
  databaseUrl: string;
}

let redis: ChildProcess;
let instances: Instance[] = [];

async function startInstance(redisUrl: string): Promise<Instance> {
  const databaseUrl = await createTestDatabase();
  const { child, lines, base, metricsPort } = await startRole('all', {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: 'admin-password',
  });
  return { child, lines, base, metrics: `http://127.0.0.1:${metricsPort}/metrics`, databaseUrl };
}

async function statuses(instance: Instance, ids: string[]): Promise<string[]> {
  return Promise.all(
    ids.map(async (id) => {
      const res = await fetch(`${instance.base}/orders/${id}`, { headers: AUTH });
      return ((await res.json()) as { status: string }).status;
    }),
  );
}

beforeAll(async () => {
  const redisPort = await freePort();
  redis = await startRedis(redisPort);
  const url = `redis://127.0.0.1:${redisPort}`;
  instances = await Promise.all([startInstance(url), startInstance(url)]);
}, 60_000);
afterAll(async () => {
  for (const instance of instances) {
    await stop(instance.child, 'SIGTERM');
    await dropDatabase(instance.databaseUrl);
  }
  await stop(redis);
});

it('completes every order of two instances sharing one Redis with their default prefixes', async () => {
  const placed = await Promise.all(
    instances.map(async (instance, n) => {
      const ids = Array.from({ length: ORDERS_EACH }, (_, i) => `shared-${n}-${i}`);
      const res = await fetch(`${instance.base}/orders`, {
        method: 'POST',
        headers: AUTH,
        body: JSON.stringify(ids.map((order_id) => orderBody({ order_id }))),
      });
      expect(res.status).toBe(201);
      return ids;
    }),
  );

  // Well inside the reconciler's 30 s staleness: a stolen job would leave its order pending.
  for (const [n, instance] of instances.entries()) {
    await waitUntil(
      async () => (await statuses(instance, placed[n]!)).every((s) => s === 'completed'),
      { timeoutMs: 15_000, intervalMs: 250, what: `instance ${n}'s orders to complete` },
    );
  }
  for (const instance of instances) {
    const metrics = await (await fetch(instance.metrics)).text();
    expect(metrics).not.toMatch(/order_job_duration_seconds_count\{outcome="missing"\} [1-9]/);
    expect(metrics).toMatch(/^order_jobs_missing_total 0$/m);
    expect(instance.lines.filter((l) => l.includes('not in this database'))).toEqual([]);
  }
});
