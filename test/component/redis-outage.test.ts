import { Harness, orderBody, startHarness, waitUntil } from '../helpers/harness';
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
});
