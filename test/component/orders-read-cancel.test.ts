import { Harness, orderBody, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

async function place(user: 'manager' | 'alice' | 'bob', body: Record<string, unknown>) {
  const res = await h.api.post('/orders').set('Authorization', h.basic(user)).send(orderBody(body));
  expect(res.status).toBe(201);
  return res.body;
}

describe('GET /orders/{order_id}', () => {
  it('returns the order with its ETag', async () => {
    await place('manager', { order_id: 'get-1' });
    const res = await h.api.get('/orders/get-1').set('Authorization', h.basic('manager'));
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({ order_id: 'get-1', total: '19.98', status: 'pending' });
  });

  it('answers 404 for an unknown order', async () => {
    const res = await h.api.get('/orders/nope').set('Authorization', h.basic('manager'));
    expect(res.status).toBe(404);
    expect(res.body.type).toMatch(/not-found$/);
  });

  it("answers 404, not 403, for another customer's order", async () => {
    await place('bob', { order_id: 'bobs-order', customer_id: 'c-bob' });
    const res = await h.api.get('/orders/bobs-order').set('Authorization', h.basic('alice'));
    expect(res.status).toBe(404);
    const own = await h.api.get('/orders/bobs-order').set('Authorization', h.basic('bob'));
    expect(own.status).toBe(200);
  });
});

describe('GET /orders', () => {
  beforeAll(async () => {
    for (let i = 0; i < 5; i++)
      await place('manager', { order_id: `list-${i}`, customer_id: 'c-list' });
  });

  it('lists newest first and pages with an opaque cursor until next_cursor is null', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await h.api
        .get('/orders')
        .query({ customer_id: 'c-list', limit: 2, ...(cursor ? { cursor } : {}) })
        .set('Authorization', h.basic('manager'));
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((o: { order_id: string }) => o.order_id));
      cursor = res.body.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['list-4', 'list-3', 'list-2', 'list-1', 'list-0']);
  });

  it('filters by status', async () => {
    await h.api.post('/orders/list-0/cancel').set('Authorization', h.basic('manager'));
    const res = await h.api
      .get('/orders')
      .query({ customer_id: 'c-list', status: 'cancelled' })
      .set('Authorization', h.basic('manager'));
    expect(res.body.data.map((o: { order_id: string }) => o.order_id)).toEqual(['list-0']);
    expect(res.body.next_cursor).toBeNull();
  });

  it("shows a customer only their own orders and refuses another's filter with 403", async () => {
    const own = await h.api.get('/orders').set('Authorization', h.basic('alice'));
    expect(own.status).toBe(200);
    expect(own.body.data.every((o: { customer_id: string }) => o.customer_id === 'c-alice')).toBe(
      true,
    );
    const other = await h.api
      .get('/orders')
      .query({ customer_id: 'c-bob' })
      .set('Authorization', h.basic('alice'));
    expect(other.status).toBe(403);
  });

  it.each([
    [{ limit: 0 }, '/query/limit'],
    [{ limit: 201 }, '/query/limit'],
    [{ status: 'lost' }, '/query/status'],
  ])('rejects %p with 400', async (query, path) => {
    const res = await h.api.get('/orders').query(query).set('Authorization', h.basic('manager'));
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('rejects a cursor it did not issue with 400', async () => {
    const res = await h.api
      .get('/orders')
      .query({ cursor: 'garbage' })
      .set('Authorization', h.basic('manager'));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: '/cursor', message: 'is not a valid cursor' }]);
  });
});

describe('POST /orders/{order_id}/cancel', () => {
  it('cancels a pending order and records the transition', async () => {
    await place('manager', { order_id: 'cancel-1' });
    const res = await h.api
      .post('/orders/cancel-1/cancel')
      .set('Authorization', h.basic('manager'));
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.body.status).toBe('cancelled');
    expect(res.body.status_history.map((s: { status: string }) => s.status)).toEqual([
      'pending',
      'cancelled',
    ]);
  });

  it('answers 409 invalid-transition for an order that is no longer pending', async () => {
    await place('manager', { order_id: 'cancel-2' });
    await h.api.post('/orders/cancel-2/cancel').set('Authorization', h.basic('manager'));
    const res = await h.api
      .post('/orders/cancel-2/cancel')
      .set('Authorization', h.basic('manager'));
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/\/invalid-transition$/);
  });

  it('honours If-Match: 412 on a stale version, 200 on the current one', async () => {
    await place('manager', { order_id: 'cancel-3' });
    const stale = await h.api
      .post('/orders/cancel-3/cancel')
      .set('Authorization', h.basic('manager'))
      .set('If-Match', '"7"');
    expect(stale.status).toBe(412);
    const bogus = await h.api
      .post('/orders/cancel-3/cancel')
      .set('Authorization', h.basic('manager'))
      .set('If-Match', 'abc');
    expect(bogus.status).toBe(412);
    const ok = await h.api
      .post('/orders/cancel-3/cancel')
      .set('Authorization', h.basic('manager'))
      .set('If-Match', '"1"');
    expect(ok.status).toBe(200);
  });

  it("answers 404 to a customer cancelling another customer's order, and changes nothing", async () => {
    await place('bob', { order_id: 'cancel-bob', customer_id: 'c-bob' });
    const res = await h.api
      .post('/orders/cancel-bob/cancel')
      .set('Authorization', h.basic('alice'));
    expect(res.status).toBe(404);
    const row = await h.services.db('orders').where('order_id', 'cancel-bob').first();
    expect(row.status).toBe('pending');
  });

  it('lets exactly one of many concurrent cancels win', async () => {
    await place('manager', { order_id: 'cancel-race' });
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        h.api.post('/orders/cancel-race/cancel').set('Authorization', h.basic('manager')),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    const history = await h.services.db('order_status_history').where('order_id', 'cancel-race');
    expect(history).toHaveLength(2);
  });
});

describe('ids with reserved characters', () => {
  it('accepts a raw ":" in a customer_id query value', async () => {
    await place('manager', { order_id: 'colon:1', customer_id: 'c:1' });
    const res = await h.api.get('/orders?customer_id=c:1').set('Authorization', h.basic('manager'));
    expect(res.status).toBe(200);
    expect(res.body.data.map((o: { order_id: string }) => o.order_id)).toEqual(['colon:1']);
    const one = await h.api.get('/orders/colon:1').set('Authorization', h.basic('manager'));
    expect(one.status).toBe(200);
  });
});
