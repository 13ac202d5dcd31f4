import { Harness, orderBody, startHarness, waitUntil } from '../helpers/harness';
import { storeFailedOrders } from '../helpers/failed-orders';
import { PrivateRedis, startPrivateRedis } from '../helpers/private-redis';

let h: Harness;
let redis: PrivateRedis;

beforeAll(async () => {
  redis = await startPrivateRedis();
  h = await startHarness({ REDIS_URL: redis.url }, { jobBackoffMs: 10, reconcileStaleAfterMs: 0 });
  await h.startWorkers();
});
afterAll(async () => {
  await redis.ensureRunning();
  await h.stop();
  await redis.stop();
});

const statusOf = async (id: string) =>
  (await h.services.db('orders').where('order_id', id).first())?.status;

describe('a Redis outage', () => {
  it('does not stop orders being accepted, and they complete once Redis is back', async () => {
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ order_id: 'before' }))
      .expect(201);
    await waitUntil(async () => (await statusOf('before')) === 'completed');

    await redis.stop();
    await waitUntil(async () => h.services.redis.status !== 'ready', {
      what: 'the client to notice',
    });
    const during = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ order_id: 'during' }));
    expect(during.status).toBe(201);
    expect(await statusOf('during')).toBe('pending');
    const ready = await waitUntil(
      async () => {
        const res = await h.api.get('/readyz');
        return res.status === 503 && res;
      },
      { what: '/readyz to report Redis down' },
    );
    expect(ready.body.checks).toEqual({ mysql: 'ok', redis: 'fail' });
    expect(h.logs.some((l) => l.includes('enqueue failed'))).toBe(true);

    // A fresh Redis: every queued job and scheduler is gone, as after a restart without AOF.
    await redis.start();
    await waitUntil(async () => (await statusOf('during')) === 'completed', {
      timeoutMs: 30_000,
      what: 'the order placed during the outage',
    });

    // And the worker consumes new jobs again.
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ order_id: 'after' }))
      .expect(201);
    await waitUntil(async () => (await statusOf('after')) === 'completed', {
      timeoutMs: 30_000,
      what: 'a new order after the restart',
    });
    await waitUntil(async () => (await h.api.get('/readyz')).status === 200, {
      what: '/readyz to report Redis back',
    });
  });

  it('lets managers retry failed orders: 200 and 202, pending, completed once Redis is back', async () => {
    const failedAt = new Date(Date.now() - 60_000);
    await storeFailedOrders(h, ['outage-one'], 'c-outage', failedAt);
    await storeFailedOrders(h, ['outage-bulk-1', 'outage-bulk-2'], 'c-outage-bulk', failedAt);

    await redis.stop();
    await waitUntil(async () => h.services.redis.status !== 'ready', {
      what: 'the client to notice',
    });
    const one = await h.api
      .post('/orders/outage-one/retry')
      .set('Authorization', h.basic('manager'));
    expect(one.status).toBe(200);
    expect(one.body.status).toBe('pending');
    const bulk = await h.api
      .post('/orders/retry')
      .set('Authorization', h.basic('manager'))
      .send({
        status: 'failed',
        failed_since: new Date(failedAt.getTime() - 1000).toISOString(),
        customer_id: 'c-outage-bulk',
      });
    expect(bulk.status).toBe(202);
    expect(bulk.body).toMatchObject({ count: 2, more: false });
    for (const id of ['outage-one', 'outage-bulk-1', 'outage-bulk-2']) {
      expect(await statusOf(id)).toBe('pending');
    }
    expect(h.logs.filter((l) => l.includes('enqueue failed')).length).toBeGreaterThanOrEqual(2);
    // What the reconciler looks for once they are stale: they are no longer finished.
    const unfinished = await h.services.repositories.orders.findUnfinished(new Date(), 100);
    expect(unfinished).toEqual(
      expect.arrayContaining(['outage-one', 'outage-bulk-1', 'outage-bulk-2']),
    );

    // A fresh Redis: nothing the api tried to enqueue is there; MySQL says what is pending.
    await redis.start();
    await waitUntil(
      async () => {
        const rows = await h.services
          .db('orders')
          .whereIn('order_id', ['outage-one', 'outage-bulk-1', 'outage-bulk-2'])
          .andWhere('status', 'completed');
        return rows.length === 3;
      },
      { timeoutMs: 30_000, what: 'the retried orders to complete' },
    );
    const summary = await h.services
      .db('customer_summaries')
      .where('customer_id', 'c-outage-bulk')
      .first();
    expect(summary.orders_count).toBe(2);
  });
});
