import { Harness, orderBody, pendingOrder, startHarness, waitUntil } from '../helpers/harness';
import { storeFailedOrders } from '../helpers/failed-orders';
import { RETRY_CHUNK } from '../../src/domain/retry-orders';
import type { Order, OrderStatus } from '../../src/domain/order';

let h: Harness;
const failing = new Set<string>();
beforeAll(async () => {
  h = await startHarness(
    {},
    {
      jobBackoffMs: 10,
      // A fulfilment step that fails chosen orders drives them to failed.
      fulfil: async (order) => {
        if (failing.has(order.order_id)) throw new Error('payment provider down');
      },
    },
  );
  await h.startWorkers();
});
afterAll(async () => h.stop());

const row = async (id: string) => h.services.db('orders').where('order_id', id).first();
const statusOf = async (id: string) => (await row(id))?.status as OrderStatus | undefined;
const waitForStatus = (id: string, status: OrderStatus) =>
  waitUntil(async () => (await statusOf(id)) === status, { what: `${id} to be ${status}` });
const historyOf = (id: string) =>
  h.services.db('order_status_history').where('order_id', id).orderBy('version');

/** An order placed through the API that the worker fails after its attempts. */
async function failedOrder(orderId: string, customerId = 'c-retry'): Promise<void> {
  failing.add(orderId);
  await h.api
    .post('/orders')
    .set('Authorization', h.basic('manager'))
    .send(orderBody({ order_id: orderId, customer_id: customerId }))
    .expect(201);
  await waitForStatus(orderId, 'failed');
  failing.delete(orderId);
}

const retry = (id: string, user: 'manager' | 'alice' = 'manager') =>
  h.api.post(`/orders/${id}/retry`).set('Authorization', h.basic(user));

const retryMany = (body: unknown, user: 'manager' | 'alice' = 'manager') =>
  h.api
    .post('/orders/retry')
    .set('Authorization', h.basic(user))
    .send(body as object);

const retriedTransitions = async () =>
  (await h.services.metrics.transitions.get()).values.find(
    (v) => v.labels.from === 'failed' && v.labels.to === 'pending',
  )?.value ?? 0;

describe('POST /orders/{order_id}/retry', () => {
  it('moves a failed order back to pending, records who asked, and the worker completes it', async () => {
    await failedOrder('retry-1');
    const failed = await row('retry-1');
    const countedBefore = await retriedTransitions();

    const res = await retry('retry-1');
    expect(res.status).toBe(200);
    const order = res.body as Order;
    expect(order).toMatchObject({ order_id: 'retry-1', status: 'pending', version: 4 });
    expect(order.completed_at).toBeNull();
    expect(res.headers.etag).toBe('"4"');
    expect(new Date(order.updated_at).getTime()).toBeGreaterThan(failed.updated_at.getTime());
    expect(order.status_history.map((s) => s.status)).toEqual([
      'pending',
      'processing',
      'failed',
      'pending',
    ]);
    expect(order.status_history[3]).toMatchObject({ status: 'pending', actor: 'manager' });
    // The worker's steps name nobody.
    expect(order.status_history.slice(0, 3).some((s) => 'actor' in s)).toBe(false);
    expect(await retriedTransitions()).toBe(countedBefore + 1);

    await waitForStatus('retry-1', 'completed');
    const history = await historyOf('retry-1');
    expect(history.map((r) => [r.status, r.actor])).toEqual([
      ['pending', null],
      ['processing', null],
      ['failed', null],
      ['pending', 'manager'],
      ['processing', null],
      ['completed', null],
    ]);
    expect((await row('retry-1')).completed_at).not.toBeNull();
  });

  it('counts a retried order once in the read models when it completes', async () => {
    await failedOrder('retry-once', 'c-retry-once');
    const before = await h.api
      .get('/customers/c-retry-once/summary')
      .set('Authorization', h.basic('manager'));
    expect(before.body.orders_count).toBe(0);
    await retry('retry-once').expect(200);
    await waitForStatus('retry-once', 'completed');
    const summary = await h.services
      .db('customer_summaries')
      .where('customer_id', 'c-retry-once')
      .first();
    expect(summary.orders_count).toBe(1);
    expect(Number(summary.items_count)).toBe(2);
    const items = await h.services.db('customer_items').where('customer_id', 'c-retry-once');
    expect(items.map((i) => [i.sku, Number(i.quantity), i.orders])).toEqual([['TEA-GREEN', 2, 1]]);
    const totals = await h.services.db('customer_totals').where('customer_id', 'c-retry-once');
    expect(totals.map((t) => [t.currency, t.amount])).toEqual([['USD', '19.9800']]);
  });

  it.each(['pending', 'processing', 'completed', 'cancelled'] as const)(
    'answers 409 invalid-transition for a %s order and changes nothing',
    async (status) => {
      const id = `not-failed-${status}`;
      await h.services.repositories.orders.insertOrders([pendingOrder(id, 'c-not-failed')]);
      if (status !== 'pending')
        await h.services.db('orders').where('order_id', id).update({ status });
      const res = await retry(id);
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toMatch(/\/invalid-transition$/);
      expect(res.body.detail).toBe(`Only a failed order can be retried; this one is ${status}.`);
      expect(await row(id)).toMatchObject({ status, version: 1 });
      expect(await historyOf(id)).toHaveLength(1);
    },
  );

  it('answers 404 for an unknown order', async () => {
    const res = await retry('no-such-order');
    expect(res.status).toBe(404);
    expect(res.body.type).toMatch(/\/not-found$/);
  });

  it("answers 403 to a customer, for its own failed order as for another's, and changes nothing", async () => {
    await storeFailedOrders(h, ['alice-failed'], 'c-alice', new Date());
    await storeFailedOrders(h, ['bob-failed'], 'c-bob', new Date());
    for (const id of ['alice-failed', 'bob-failed', 'no-such-order']) {
      const res = await retry(id, 'alice');
      expect(res.status).toBe(403);
      expect(res.body.type).toMatch(/\/forbidden$/);
    }
    expect(await statusOf('alice-failed')).toBe('failed');
    expect(await statusOf('bob-failed')).toBe('failed');
  });

  it('lets exactly one of two concurrent retries win; the other answers 409', async () => {
    await storeFailedOrders(h, ['retry-race'], 'c-race', new Date());
    const results = await Promise.all([retry('retry-race'), retry('retry-race')]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const history = await historyOf('retry-race');
    expect(history.filter((r) => r.status === 'pending' && r.actor === 'manager')).toHaveLength(1);
    await waitForStatus('retry-race', 'completed');
  });

  it('shows who retried an order to managers only', async () => {
    await storeFailedOrders(h, ['alice-retried'], 'c-alice', new Date());
    await retry('alice-retried').expect(200);
    const asManager = await h.api
      .get('/orders/alice-retried')
      .set('Authorization', h.basic('manager'));
    expect(
      asManager.body.status_history.some((s: { actor?: string }) => s.actor === 'manager'),
    ).toBe(true);
    const asAlice = await h.api.get('/orders/alice-retried').set('Authorization', h.basic('alice'));
    expect(asAlice.status).toBe(200);
    expect(asAlice.body.status_history.some((s: object) => 'actor' in s)).toBe(false);
    const listed = await h.api
      .get('/orders?customer_id=c-alice')
      .set('Authorization', h.basic('alice'));
    const entries = listed.body.data.flatMap((o: Order) => o.status_history);
    expect(entries.some((s: object) => 'actor' in s)).toBe(false);
  });

  it('records who cancelled an order', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('cancel-actor', 'c-alice')]);
    const res = await h.api
      .post('/orders/cancel-actor/cancel')
      .set('Authorization', h.basic('alice'))
      .expect(200);
    expect(res.body.status_history.some((s: object) => 'actor' in s)).toBe(false);
    const history = await historyOf('cancel-actor');
    expect(history.map((r) => [r.status, r.actor])).toEqual([
      ['pending', null],
      ['cancelled', 'alice'],
    ]);
  });

  it('shadows GET of an order whose id is "retry" (405), which stays reachable otherwise', async () => {
    // OpenAPI matches the literal /orders/retry before /orders/{order_id}, for every method.
    await storeFailedOrders(h, ['retry'], 'c-alice', new Date());
    const get = await h.api.get('/orders/retry').set('Authorization', h.basic('manager'));
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const listed = await h.api
      .get('/orders?customer_id=c-alice&status=failed')
      .set('Authorization', h.basic('manager'));
    expect(listed.body.data.map((o: Order) => o.order_id)).toContain('retry');
    const retried = await retry('retry');
    expect(retried.status).toBe(200);
    expect(retried.body.order_id).toBe('retry');
  });
});

describe('POST /orders/retry', () => {
  const hoursAgo = (n: number) => new Date(Date.now() - n * 3600_000);

  it('retries only the failed orders that failed in the window, a chunk per transaction', async () => {
    const inWindow = Array.from({ length: 2 * RETRY_CHUNK + 50 }, (_, i) => `bulk-${i}`);
    await storeFailedOrders(h, inWindow, 'c-bulk', hoursAgo(1));
    await storeFailedOrders(h, ['bulk-old-1', 'bulk-old-2'], 'c-bulk', hoursAgo(5));
    await storeFailedOrders(h, ['bulk-late'], 'c-bulk', hoursAgo(-1));
    await h.services.repositories.orders.insertOrders([pendingOrder('bulk-pending', 'c-bulk')]);

    const res = await retryMany({
      status: 'failed',
      failed_since: hoursAgo(2).toISOString(),
      customer_id: 'c-bulk',
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ count: inWindow.length, more: false });
    expect(new Date(res.body.failed_before).getTime()).toBeLessThanOrEqual(Date.now());
    const line = h.logs.find((l) => l.includes('failed orders retried'));
    expect(JSON.parse(line!)).toMatchObject({
      orders: inWindow.length,
      transactions: Math.ceil(inWindow.length / RETRY_CHUNK),
      actor: 'manager',
    });

    const history = await h.services
      .db('order_status_history')
      .whereIn('order_id', inWindow)
      .andWhere({ status: 'pending', actor: 'manager' });
    expect(history).toHaveLength(inWindow.length);
    for (const id of ['bulk-old-1', 'bulk-old-2', 'bulk-late']) {
      expect(await statusOf(id)).toBe('failed');
    }
    await waitUntil(
      async () => {
        const done = await h.services
          .db('orders')
          .whereIn('order_id', inWindow)
          .andWhere('status', 'completed')
          .count({ n: '*' });
        return Number(done[0]!.n) === inWindow.length;
      },
      { timeoutMs: 60_000, what: 'every retried order to complete' },
    );
    const summary = await h.services
      .db('customer_summaries')
      .where('customer_id', 'c-bulk')
      .first();
    expect(summary.orders_count).toBe(inWindow.length);
  });

  it('stops at the limit, says there are more, and takes the rest on the next request', async () => {
    const ids = ['limit-1', 'limit-2', 'limit-3', 'limit-4', 'limit-5'];
    await storeFailedOrders(h, ids, 'c-limit', hoursAgo(1));
    await storeFailedOrders(h, ['other-customer'], 'c-limit-other', hoursAgo(1));
    const body = {
      status: 'failed',
      failed_since: hoursAgo(2).toISOString(),
      customer_id: 'c-limit',
      limit: 2,
    };
    const first = await retryMany(body);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ count: 2, more: true });
    // The oldest created first.
    expect([await statusOf('limit-1'), await statusOf('limit-3')]).toEqual([
      expect.not.stringMatching(/^failed$/),
      'failed',
    ]);
    const pinned = { ...body, failed_before: first.body.failed_before };
    expect((await retryMany(pinned)).body).toMatchObject({ count: 2, more: true });
    expect((await retryMany(pinned)).body).toMatchObject({ count: 1, more: false });
    expect((await retryMany(pinned)).body).toMatchObject({ count: 0, more: false });
    expect(await statusOf('other-customer')).toBe('failed');
  });

  it('answers 403 to a customer and changes nothing', async () => {
    await storeFailedOrders(h, ['alice-bulk'], 'c-alice', hoursAgo(1));
    const res = await retryMany(
      { status: 'failed', failed_since: hoursAgo(2).toISOString(), customer_id: 'c-alice' },
      'alice',
    );
    expect(res.status).toBe(403);
    expect(await statusOf('alice-bulk')).toBe('failed');
  });

  const since = '2026-11-30T00:00:00Z';
  it.each([
    ['no body fields', {}, '/status'],
    ['another status', { status: 'pending', failed_since: since }, '/status'],
    ['no failed_since', { status: 'failed' }, '/failed_since'],
    ['a date without a time', { status: 'failed', failed_since: '2026-11-30' }, '/failed_since'],
    [
      'a time without an offset',
      { status: 'failed', failed_since: '2026-11-30T00:00:00' },
      '/failed_since',
    ],
    ['not a time', { status: 'failed', failed_since: 'yesterday' }, '/failed_since'],
    ['a number for a time', { status: 'failed', failed_since: 1764460800 }, '/failed_since'],
    [
      'a bad failed_before',
      { status: 'failed', failed_since: since, failed_before: 'soon' },
      '/failed_before',
    ],
    [
      'failed_before not after failed_since',
      { status: 'failed', failed_since: since, failed_before: since },
      '/failed_before',
    ],
    ['limit 0', { status: 'failed', failed_since: since, limit: 0 }, '/limit'],
    ['limit over 10000', { status: 'failed', failed_since: since, limit: 10001 }, '/limit'],
    ['a fractional limit', { status: 'failed', failed_since: since, limit: 2.5 }, '/limit'],
    ['a string limit', { status: 'failed', failed_since: since, limit: '5' }, '/limit'],
    [
      'a bad customer_id',
      { status: 'failed', failed_since: since, customer_id: 'a b' },
      '/customer_id',
    ],
    ['an unknown field', { status: 'failed', failed_since: since, order_ids: ['x'] }, '/order_ids'],
    ['an array', [{ status: 'failed', failed_since: since }], '/'],
  ])('answers 400 problem+json for %s', async (_name, body, path) => {
    const res = await retryMany(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.type).toMatch(/\/validation$/);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].path).toBe(path);
  });

  it.each([
    ['a body that is not JSON', 'status=failed', 'application/json', 400],
    ['null', 'null', 'application/json', 400],
    ['a form body', 'status=failed', 'application/x-www-form-urlencoded', 415],
  ])('answers %s with a problem, never a 500', async (_name, text, type, status) => {
    const res = await h.api
      .post('/orders/retry')
      .set('Authorization', h.basic('manager'))
      .set('Content-Type', type)
      .send(text);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it.each([
    ['the first year', { failed_since: '0001-01-01T00:00:00Z' }, 202],
    ['the last instant', { failed_since: '9999-12-31T23:59:59.999Z' }, 202],
    ['an offset past the last day', { failed_since: '9999-12-31T23:59:59-23:59' }, 202],
    ['a leap second', { failed_since: '2016-12-31T23:59:60Z' }, 400],
    [
      'a leap second at the end',
      { failed_since: since, failed_before: '2016-12-31T23:59:60Z' },
      400,
    ],
    [
      'far apart',
      { failed_since: '0001-01-01T00:00:00Z', failed_before: '9999-12-31T23:59:59Z' },
      202,
    ],
    [
      'an end past the last day',
      { failed_since: since, failed_before: '9999-12-31T23:59:59-23:59' },
      202,
    ],
    [
      'a window past the last day',
      { failed_since: '9999-12-31T23:59:59-23:00', failed_before: '9999-12-31T23:59:59-23:59' },
      202,
    ],
  ])('answers a time at the edge (%s) without a 500', async (_name, times, status) => {
    const res = await retryMany({ status: 'failed', customer_id: 'c-nobody', ...times });
    expect(res.status).toBe(status);
    if (status === 202) expect(res.body).toMatchObject({ count: 0, more: false });
    else expect(res.body.errors).toHaveLength(1);
  });
});
