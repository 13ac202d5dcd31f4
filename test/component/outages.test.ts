import type { ChildProcess } from 'node:child_process';
import {
  Harness,
  MYSQL_URL,
  orderBody,
  startHarness,
  uniqueName,
  waitUntil,
} from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { startTcpRelay, TcpRelay } from '../helpers/tcp-relay';

/*
 * Issue 9: outages are harmless. An order is never failed because MySQL was away; a hung
 * dependency costs a request about 2 s and a 503 naming it, not the length of the hang; a
 * Redis that comes back empty has its orders enqueued again at once.
 */

const statusOf = async (h: Harness, id: string) =>
  (await h.services.db('orders').where('order_id', id).first())?.status;

/** A harness whose MySQL is reached through a relay the test can cut or pause. */
async function behindRelay(
  env: Record<string, string> = {},
  options: Parameters<typeof startHarness>[1] = {},
): Promise<{ h: Harness; mysql: TcpRelay }> {
  const mysql = await startTcpRelay(Number(new URL(MYSQL_URL).port || 3306));
  const h = await startHarness(
    { DATABASE_URL: `mysql://root@127.0.0.1:${mysql.port}/${uniqueName('test')}`, ...env },
    options,
  );
  return { h, mysql };
}

describe('a MySQL outage', () => {
  it('never fails an order: its job waits the outage out with its attempts intact', async () => {
    // Five attempts 10 ms apart would all be spent within a second of the outage.
    const { h, mysql } = await behindRelay({}, { jobBackoffMs: 10 });
    try {
      for (const id of ['out-1', 'out-2', 'out-3']) {
        await h.api
          .post('/orders')
          .set('Authorization', h.basic('manager'))
          .send(orderBody({ order_id: id }))
          .expect(201);
      }
      await mysql.cut();
      await h.startWorkers();
      await waitUntil(async () => h.logs.some((l) => l.includes('order job deferred')), {
        what: 'jobs to be deferred',
      });
      await new Promise((resolve) => setTimeout(resolve, 1500)); // longer than five attempts
      await mysql.restore();
      for (const id of ['out-1', 'out-2', 'out-3']) {
        await waitUntil(async () => (await statusOf(h, id)) === 'completed', {
          timeoutMs: 20_000,
          what: `${id} to complete`,
        });
      }
      expect(h.logs.filter((l) => l.includes('failed after the last attempt'))).toEqual([]);
      const failed = (await h.services.metrics.transitions.get()).values.filter(
        (v) => v.labels.to === 'failed',
      );
      expect(failed.every((v) => v.value === 0)).toBe(true);
    } finally {
      await mysql.restore();
      await h.stop();
      await mysql.close();
    }
  });
});

describe('a hung MySQL', () => {
  it('answers 503 naming MySQL, with Retry-After, instead of holding the request', async () => {
    const { h, mysql } = await behindRelay();
    try {
      await h.api.get('/orders').set('Authorization', h.basic('manager')).expect(200);
      mysql.pause();
      const res = await h.api.get('/orders').set('Authorization', h.basic('manager'));
      expect(res.status).toBe(503);
      expect(res.body.detail).toMatch(/^MySQL is unavailable/);
      expect(res.headers['retry-after']).toBeDefined();
      mysql.resume();
      await waitUntil(
        async () =>
          (await h.api.get('/orders').set('Authorization', h.basic('manager'))).status === 200,
        { what: 'requests to succeed again' },
      );
    } finally {
      mysql.resume();
      await h.stop();
      await mysql.close();
    }
  }, 20_000);
});

describe('a hung Redis', () => {
  it('costs one command timeout, after which Redis calls fail fast until it answers again', async () => {
    const redisPort = await freePort();
    const redisServer = await startRedis(redisPort);
    const relay = await startTcpRelay(redisPort);
    const h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${relay.port}` });
    try {
      await h.api.get('/orders').set('Authorization', h.basic('manager')).expect(200);
      relay.pause();
      // The rate limits' one call times out (2 s) and falls back to memory; the connection
      // is dropped, so later calls and requests do not wait again.
      const first = await h.api.get('/orders').set('Authorization', h.basic('manager'));
      expect(first.status).toBe(200);
      expect(h.services.redis.status).not.toBe('ready');
      expect(h.logs.some((l) => l.includes('redis stopped answering'))).toBe(true);
      relay.resume();
      await waitUntil(async () => h.services.redis.status === 'ready', {
        what: 'Redis to be used again',
      });
    } finally {
      relay.resume();
      await h.stop();
      await relay.close();
      await stop(redisServer);
    }
  }, 20_000);
});

describe('orders accepted while Redis hangs', () => {
  it('are enqueued again by the api as soon as Redis answers, not 30 s later', async () => {
    const redisPort = await freePort();
    const redisServer = await startRedis(redisPort);
    const relay = await startTcpRelay(redisPort);
    const h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${relay.port}` });
    try {
      await h.startWorkers();
      relay.pause();
      await h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .send(orderBody({ order_id: 'hang-1' }))
        .expect(201);
      expect(h.logs.some((l) => l.includes('enqueue failed'))).toBe(true);
      relay.resume();
      await waitUntil(async () => (await statusOf(h, 'hang-1')) === 'completed', {
        timeoutMs: 10_000,
        what: 'the order to complete within 10 s of Redis answering',
      });
    } finally {
      relay.resume();
      await h.stop();
      await relay.close();
      await stop(redisServer);
    }
  }, 30_000);
});

describe('a Redis that comes back empty', () => {
  let redis: ChildProcess;
  let port: number;
  let h: Harness;
  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    // The default reconciler: orders are enqueued again only once 30 s stale.
    h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${port}` });
    await h.startWorkers();
  });
  afterAll(async () => {
    if (redis.exitCode !== null) redis = await startRedis(port);
    await h.stop();
    await stop(redis);
  });

  it('has the orders it lost enqueued again at once, not 30 s later', async () => {
    await stop(redis);
    await waitUntil(async () => h.services.redis.status !== 'ready', {
      what: 'the client to notice',
    });
    for (const id of ['empty-1', 'empty-2']) {
      await h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .send(orderBody({ order_id: id }))
        .expect(201);
    }
    redis = await startRedis(port); // no persistence: every job and the marker are gone
    for (const id of ['empty-1', 'empty-2']) {
      await waitUntil(async () => (await statusOf(h, id)) === 'completed', {
        timeoutMs: 10_000,
        what: `${id} to complete within 10 s of Redis coming back`,
      });
    }
  });
});
