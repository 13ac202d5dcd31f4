import {
  Harness,
  orderBody,
  pendingOrder,
  processAlone,
  startHarness,
  waitUntil,
} from '../helpers/harness';
import { ORDER_JOB_ATTEMPTS } from '../../src/data-access/order-queue';
import type { Order } from '../../src/domain/order';

let h: Harness;
const failing = new Set<string>();
beforeAll(async () => {
  h = await startHarness(
    {},
    {
      jobBackoffMs: 10,
      // A fulfilment step that fails for chosen orders, to drive the retry path.
      fulfil: async (order) => {
        if (failing.has(order.order_id)) throw new Error('payment provider down');
      },
    },
  );
  await h.startWorkers();
});
afterAll(async () => h.stop());

const statusOf = async (id: string) =>
  (await h.services.db('orders').where('order_id', id).first())?.status as string | undefined;

const waitForStatus = (id: string, status: string) =>
  waitUntil(async () => (await statusOf(id)) === status, { what: `${id} to be ${status}` });

async function place(body: Record<string, unknown>) {
  const res = await h.api
    .post('/orders')
    .set('Authorization', h.basic('manager'))
    .send(orderBody(body));
  expect(res.status).toBe(201);
  return res.body as Order;
}

describe('order processing', () => {
  it('moves an order pending → processing → completed and records each step', async () => {
    await place({ order_id: 'proc-1' });
    await waitForStatus('proc-1', 'completed');
    const res = await h.api.get('/orders/proc-1').set('Authorization', h.basic('manager'));
    expect(res.body.status_history.map((s: { status: string }) => s.status)).toEqual([
      'pending',
      'processing',
      'completed',
    ]);
    expect(res.body.version).toBe(3);
    expect(res.body.completed_at).not.toBeNull();
    const transitions = await h.services.metrics.transitions.get();
    const completed = transitions.values.find(
      (v) => v.labels.from === 'processing' && v.labels.to === 'completed',
    );
    expect(completed?.value).toBeGreaterThanOrEqual(1);
  });

  it('has one effect when the same order is processed twice at once (a redelivered job)', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('twice-1', 'c-twice')]);
    const outcomes = await Promise.all([
      processAlone(h, 'twice-1'),
      processAlone(h, 'twice-1'),
      processAlone(h, 'twice-1'),
    ]);
    expect(outcomes.filter((o) => o === 'completed')).toHaveLength(1);
    const history = await h.services.db('order_status_history').where('order_id', 'twice-1');
    expect(history.map((r) => r.status)).toEqual(['pending', 'processing', 'completed']);
    const summary = await h.services
      .db('customer_summaries')
      .where('customer_id', 'c-twice')
      .first();
    expect(summary.orders_count).toBe(1);
    // And a late duplicate after completion changes nothing.
    expect(await processAlone(h, 'twice-1')).toBe('skipped');
  });

  it('leaves a cancelled order alone when its job runs late', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('stale-1', 'c-stale')]);
    await h.api.post('/orders/stale-1/cancel').set('Authorization', h.basic('manager')).expect(200);
    expect(await processAlone(h, 'stale-1')).toBe('skipped');
    expect(await statusOf('stale-1')).toBe('cancelled');
  });

  it(`retries a failing order ${ORDER_JOB_ATTEMPTS} times, then marks it failed`, async () => {
    failing.add('fail-1');
    await place({ order_id: 'fail-1' });
    await waitForStatus('fail-1', 'failed');
    const history = await h.services
      .db('order_status_history')
      .where('order_id', 'fail-1')
      .orderBy('version');
    expect(history.map((r) => r.status)).toEqual(['pending', 'processing', 'failed']);
    const attempts = () =>
      h.logs.filter((l) => l.includes('order job attempt failed') && l.includes('fail-1'));
    await waitUntil(async () => attempts().length >= ORDER_JOB_ATTEMPTS);
    expect(attempts()).toHaveLength(ORDER_JOB_ATTEMPTS);
  });

  it('fails only the failing order of a job, once, and completes the others once', async () => {
    failing.add('group-bad');
    const ids = ['group-ok-1', 'group-bad', 'group-ok-2'];
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(ids.map((order_id) => orderBody({ order_id, customer_id: 'c-group' })))
      .expect(201);
    await waitForStatus('group-bad', 'failed');
    const history = await h.services.db('order_status_history').whereIn('order_id', ids);
    const statuses = (id: string) => history.filter((r) => r.order_id === id).map((r) => r.status);
    // The job ran ORDER_JOB_ATTEMPTS times; its good orders were done on the first.
    expect(statuses('group-ok-1')).toEqual(['pending', 'processing', 'completed']);
    expect(statuses('group-ok-2')).toEqual(['pending', 'processing', 'completed']);
    expect(statuses('group-bad')).toEqual(['pending', 'processing', 'failed']);
    // The last attempt's line is written after the order is marked failed.
    const attempts = () =>
      h.logs.filter((l) => l.includes('order job attempt failed') && l.includes('group-bad'));
    await waitUntil(async () => attempts().length >= ORDER_JOB_ATTEMPTS);
    expect(attempts()).toHaveLength(ORDER_JOB_ATTEMPTS);
    const summary = await h.services
      .db('customer_summaries')
      .where('customer_id', 'c-group')
      .first();
    expect(summary.orders_count).toBe(2);
  });

  it('processes a job enqueued by a version before group jobs ({orderId})', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('legacy-1', 'c-legacy')]);
    await h.services.orderQueue.queue.add('process', { orderId: 'legacy-1' });
    await waitForStatus('legacy-1', 'completed');
  });

  it('recovers an order that failed a few times and then succeeds', async () => {
    failing.add('flaky-1');
    await place({ order_id: 'flaky-1' });
    await waitUntil(async () =>
      h.logs.some((l) => l.includes('order job attempt failed') && l.includes('flaky-1')),
    );
    failing.delete('flaky-1');
    await waitForStatus('flaky-1', 'completed');
  });

  it('logs and counts the orders of a job that are not in this database', async () => {
    // Another deployment's job, as when two share one Redis key prefix.
    await h.services.orderQueue.enqueue(['elsewhere-1']);
    const missing = await waitUntil(
      async () => (await h.services.metrics.jobsMissing.get()).values[0]?.value === 1,
      { what: 'the missing job to be counted' },
    );
    expect(missing).toBe(true);
    const line = h.logs.find((l) => l.includes('not in this database'));
    expect(JSON.parse(line!)).toMatchObject({
      level: 'warn',
      orders: 1,
      order_ids: ['elsewhere-1'],
      redis_prefix: h.prefix,
    });
  });

  it('reconciler enqueues an order that was committed but never enqueued', async () => {
    // As if the API died between COMMIT and queue.add.
    await h.services.repositories.orders.insertOrders([pendingOrder('orphan-1', 'c-orphan')]);
    expect(await statusOf('orphan-1')).toBe('pending');
    expect(await h.roles.worker.useCases.reconcileOrders(0)).toBeGreaterThanOrEqual(1);
    await waitForStatus('orphan-1', 'completed');
  });

  it('settles every order exactly once when cancels race the worker', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `race-${i}`);
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(ids.map((order_id) => orderBody({ order_id, customer_id: 'c-race' })))
      .expect(201);
    const cancels = await Promise.all(
      ids.map((id) => h.api.post(`/orders/${id}/cancel`).set('Authorization', h.basic('manager'))),
    );
    expect(cancels.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const cancelled = ids.filter((_, i) => cancels[i]!.status === 200);
    await waitUntil(async () => {
      const rows = await h.services
        .db('orders')
        .whereIn('order_id', ids)
        .whereIn('status', ['pending', 'processing']);
      return rows.length === 0;
    });
    const rows = await h.services.db('orders').whereIn('order_id', ids);
    for (const row of rows) {
      expect(row.status).toBe(cancelled.includes(row.order_id) ? 'cancelled' : 'completed');
    }
    const summary = await h.services
      .db('customer_summaries')
      .where('customer_id', 'c-race')
      .first();
    expect(summary.orders_count).toBe(ids.length - cancelled.length);
  });
});
