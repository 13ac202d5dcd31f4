import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildInfo } from '../../src/lib/build-info';
import { createMetrics } from '../../src/lib/metrics';
import { Harness, pendingOrder, startHarness, waitUntil } from '../helpers/harness';
import { PrivateRedis, startPrivateRedis } from '../helpers/private-redis';
import { parseSamples, scrape, valueOf } from './helpers/prometheus-text';

const packageVersion = (
  JSON.parse(readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as {
    version: string;
  }
).version;

describe('build info', () => {
  it('takes the version from package.json and the commit it is given, else "unknown"', () => {
    expect(buildInfo('0a1b2c3')).toEqual({ version: packageVersion, commit: '0a1b2c3' });
    expect(buildInfo()).toEqual({ version: packageVersion, commit: 'unknown' });
  });

  it('is exported as order_service_build_info{version,commit} = 1', async () => {
    const samples = await scrape(createMetrics({ version: '1.2.3', commit: 'abc' }).registry);
    const info = samples.filter((s) => s.name === 'order_service_build_info');
    expect(info).toEqual([
      { name: 'order_service_build_info', labels: { version: '1.2.3', commit: 'abc' }, value: 1 },
    ]);
  });
});

describe('counters with known label values', () => {
  it('start at 0 so the first failed order or retry shows up in rate() and increase()', async () => {
    const samples = await scrape(createMetrics().registry);
    expect(
      valueOf(samples, 'order_status_transitions_total', { from: 'processing', to: 'failed' }),
    ).toBe(0);
    expect(valueOf(samples, 'db_transaction_retries_total', { reason: 'deadlock' })).toBe(0);
    expect(valueOf(samples, 'db_transaction_retries_total', { reason: 'lock_wait_timeout' })).toBe(
      0,
    );
    expect(valueOf(samples, 'auth_failures_total', { method: 'basic' })).toBe(0);
  });
});

describe('per-process gauges', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('report the DB pool: connections in use, idle, the limit and waiting acquires', async () => {
    const { db, metrics } = h.services;
    // Only the pool gauges: the readiness gauge would queue a query of its own on the pool.
    const pool = async () =>
      parseSamples(
        (
          await Promise.all(
            ['in_use', 'idle', 'max'].map((s) =>
              metrics.registry.getSingleMetricAsString(`db_pool_connections_${s}`),
            ),
          )
        ).join('\n') +
          '\n' +
          (await metrics.registry.getSingleMetricAsString('db_pool_pending_acquires')),
      );
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // Ten transactions hold every connection of the pool (max 10); the eleventh query waits.
    const holders = Array.from({ length: 10 }, () => db.transaction(() => held));
    const waiting = waitUntil(
      async () => valueOf(await pool(), 'db_pool_connections_in_use') === 10,
      {
        what: 'ten connections in use',
      },
    ).then(() => db.raw('SELECT 1'));
    try {
      const during = await waitUntil(
        async () => {
          const samples = await pool();
          return valueOf(samples, 'db_pool_pending_acquires') === 1 && samples;
        },
        { what: 'a waiting acquire' },
      );
      expect(valueOf(during, 'db_pool_connections_in_use')).toBe(10);
      expect(valueOf(during, 'db_pool_connections_max')).toBe(10);
    } finally {
      release();
      await Promise.all([...holders, waiting]);
    }
    const after = await pool();
    expect(valueOf(after, 'db_pool_connections_in_use')).toBe(0);
    expect(valueOf(after, 'db_pool_pending_acquires')).toBe(0);
    expect(valueOf(after, 'db_pool_connections_idle')).toBeGreaterThanOrEqual(1);
  });

  it('report MySQL as reachable while the pool is exhausted (saturation is not an outage)', async () => {
    const { db, metrics } = h.services;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holders = Array.from({ length: 10 }, () => db.transaction(() => held));
    try {
      await waitUntil(
        async () => valueOf(await scrape(metrics.registry), 'db_pool_connections_in_use') === 10,
        {
          what: 'ten connections in use',
        },
      );
      const samples = parseSamples(await metrics.registry.getSingleMetricAsString('dependency_up'));
      expect(valueOf(samples, 'dependency_up', { dependency: 'mysql' })).toBe(1);
    } finally {
      release();
      await Promise.all(holders);
    }
  });

  it('report both Redis connections, both dependencies and readiness as up', async () => {
    const samples = await scrape(h.services.metrics.registry);
    expect(valueOf(samples, 'redis_connection_up', { connection: 'producer' })).toBe(1);
    expect(valueOf(samples, 'redis_connection_up', { connection: 'worker' })).toBe(1);
    expect(valueOf(samples, 'dependency_up', { dependency: 'mysql' })).toBe(1);
    expect(valueOf(samples, 'dependency_up', { dependency: 'redis' })).toBe(1);
    expect(valueOf(samples, 'order_service_ready')).toBe(1);
  });

  it('leave the shared queue and pending-order gauges to the worker role', async () => {
    const names = (await scrape(h.services.metrics.registry)).map((s) => s.name);
    expect(names).not.toContain('queue_jobs');
    expect(names).not.toContain('orders_oldest_pending_age_seconds');

    const order = pendingOrder('obs-pending-1', 'c-obs');
    order.created_at = new Date(Date.now() - 90_000);
    await h.services.repositories.orders.insertOrders([order]);
    // The workers would process the order at once; only the gauges are wanted here.
    const workers = h.roles.worker.createWorkers();
    // Closing a BullMQ worker before its connections are up races inside BullMQ.
    await Promise.all([
      workers.orderWorker.waitUntilReady(),
      workers.maintenance.worker.waitUntilReady(),
      workers.maintenance.queue.waitUntilReady(),
    ]);
    const samples = await scrape(h.services.metrics.registry);
    await workers.orderWorker.close();
    await workers.maintenance.worker.close();
    await workers.maintenance.queue.close();
    expect(valueOf(samples, 'orders_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(90);
    expect(valueOf(samples, 'queue_jobs', { queue: 'orders', state: 'waiting' })).toBe(0);
  });

  it('say not ready while the process drains', async () => {
    h.services.readiness.startDraining();
    expect(valueOf(await scrape(h.services.metrics.registry), 'order_service_ready')).toBe(0);
  });
});

describe('per-process gauges during a Redis outage', () => {
  let h: Harness;
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    h = await startHarness({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await redis.ensureRunning();
    await h?.stop();
    await redis.stop();
  });

  it('turn Redis down and not ready, keep MySQL up, and recover when Redis is back', async () => {
    await redis.stop();
    const down = await waitUntil(
      async () => {
        const samples = await scrape(h.services.metrics.registry);
        return (
          valueOf(samples, 'redis_connection_up', { connection: 'worker' }) === 0 &&
          valueOf(samples, 'redis_connection_up', { connection: 'producer' }) === 0 &&
          valueOf(samples, 'order_service_ready') === 0 &&
          samples
        );
      },
      { what: 'both connections to drop and readiness to notice' },
    );
    expect(valueOf(down, 'dependency_up', { dependency: 'redis' })).toBe(0);
    expect(valueOf(down, 'dependency_up', { dependency: 'mysql' })).toBe(1);

    await redis.start();
    const up = await waitUntil(
      async () => {
        const samples = await scrape(h.services.metrics.registry);
        return valueOf(samples, 'dependency_up', { dependency: 'redis' }) === 1 && samples;
      },
      { what: 'Redis to be back' },
    );
    expect(valueOf(up, 'redis_connection_up', { connection: 'producer' })).toBe(1);
    expect(valueOf(up, 'order_service_ready')).toBe(1);
  });
});
