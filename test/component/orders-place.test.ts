import { Harness, orderBody, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const manager = () => h.basic('manager');

describe('POST /orders with one order', () => {
  it('stores the order, answers 201 with Location and ETag, and queues one job', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ order_id: 'ord-1001', metadata: { channel: 'web' } }));

    expect(res.status).toBe(201);
    expect(res.headers.location).toBe('/orders/ord-1001');
    expect(res.headers.etag).toBe('"1"');
    expect(res.body).toMatchObject({
      order_id: 'ord-1001',
      customer_id: 'c-alice',
      status: 'pending',
      currency: 'USD',
      items: [
        {
          sku: 'TEA-GREEN',
          name: 'Green tea',
          quantity: 2,
          unit_price: '9.99',
          line_total: '19.98',
        },
      ],
      total: '19.98',
      metadata: { channel: 'web' },
      version: 1,
      completed_at: null,
      status_history: [{ status: 'pending' }],
    });
    const stored = await h.services.db('orders').where('order_id', 'ord-1001').first();
    expect(stored.status).toBe('pending');
    const job = await h.services.orderQueue.queue.getJobs(['waiting']);
    expect(job.flatMap((j) => j.data.orderIds)).toContain('ord-1001');
  });

  it('generates an order id when none is given', async () => {
    const res = await h.api.post('/orders').set('Authorization', manager()).send(orderBody());
    expect(res.status).toBe(201);
    expect(res.body.order_id).toMatch(/^ord_[0-9a-f-]{36}$/);
  });

  it('computes money with the currency minor unit: JPY 0, KWD 3, large quantities', async () => {
    const jpy = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(
        orderBody({
          currency: 'JPY',
          items: [{ sku: 'A', name: 'a', quantity: 10000, unit_price: '1999' }],
        }),
      );
    expect(jpy.status).toBe(201);
    expect(jpy.body.total).toBe('19990000');
    const kwd = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(
        orderBody({
          currency: 'KWD',
          items: [
            { sku: 'A', name: 'a', quantity: 3, unit_price: '0.333' },
            { sku: 'B', name: 'b', quantity: 10000, unit_price: '999999999999999.999' },
          ],
        }),
      );
    expect(kwd.status).toBe(201);
    expect(kwd.body.items[0]).toMatchObject({ unit_price: '0.333', line_total: '0.999' });
    expect(kwd.body.items[1].line_total).toBe('9999999999999999990.000');
    expect(kwd.body.total).toBe('9999999999999999990.999');
    const usd = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ items: [{ sku: 'A', name: 'a', quantity: 3, unit_price: '0.1' }] }));
    expect(usd.body.items[0]).toMatchObject({ unit_price: '0.10', line_total: '0.30' });
    expect(usd.body.total).toBe('0.30');
  });

  it('rejects more decimals than the currency allows with a JSON-pointer path', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(
        orderBody({
          order_id: 'ord-scale',
          currency: 'JPY',
          items: [{ sku: 'A', name: 'a', quantity: 1, unit_price: '1.5' }],
        }),
      );
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([
      { path: '/items/0/unit_price', message: expect.stringMatching(/at most 0 decimal/) },
    ]);
    expect(await h.services.db('orders').where('order_id', 'ord-scale').first()).toBeUndefined();
  });

  it('rejects a code that is not ISO 4217', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ currency: 'ABC' }));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/currency', message: 'must be an ISO 4217 currency code' },
    ]);
  });

  it.each([
    [
      'quantity 0',
      { items: [{ sku: 'A', name: 'a', quantity: 0, unit_price: '1.00' }] },
      '/items/0/quantity',
    ],
    [
      'quantity 10001',
      { items: [{ sku: 'A', name: 'a', quantity: 10001, unit_price: '1.00' }] },
      '/items/0/quantity',
    ],
    [
      'negative price',
      { items: [{ sku: 'A', name: 'a', quantity: 1, unit_price: '-1.00' }] },
      '/items/0/unit_price',
    ],
    [
      'numeric price',
      { items: [{ sku: 'A', name: 'a', quantity: 1, unit_price: 1 }] },
      '/items/0/unit_price',
    ],
    ['no items', { items: [] }, '/items'],
    ['a client-set status', { status: 'completed' }, '/status'],
    ['bad order id', { order_id: 'has space' }, '/order_id'],
  ])('rejects %s with 400 naming the field', async (_name, override, path) => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody(override));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ status: 400, type: expect.stringMatching(/validation$/) });
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('answers 409 for an order id that already exists and stores nothing new', async () => {
    const first = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ order_id: 'ord-dup' }));
    expect(first.status).toBe(201);
    const again = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ order_id: 'ord-dup', currency: 'EUR' }));
    expect(again.status).toBe(409);
    const row = await h.services.db('orders').where('order_id', 'ord-dup').first();
    expect(row.currency).toBe('USD');
  });

  it('requires customer_id from managers', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ customer_id: undefined }));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].path).toBe('/customer_id');
  });
});

describe('POST /orders and the read models', () => {
  it("does not wait for a customer's read-model rows held by a completion", async () => {
    const { db } = h.services;
    await db('customer_summaries').insert({ customer_id: 'c-hot' });
    await db('customer_totals').insert({ customer_id: 'c-hot', currency: 'USD', amount: '0' });
    // What a completion on another connection (or Galera node) holds until it commits.
    const completion = await db.transaction();
    try {
      await completion('customer_summaries').where('customer_id', 'c-hot').forUpdate();
      await completion('customer_totals').where('customer_id', 'c-hot').forUpdate();
      const res = await h.api
        .post('/orders')
        .set('Authorization', manager())
        .send([orderBody({ customer_id: 'c-hot' }), orderBody({ customer_id: 'c-hot' })]);
      expect(res.status).toBe(201);
    } finally {
      await completion.rollback();
    }
  });

  it("lists a new customer's summary, with zeros, as soon as its first order is placed", async () => {
    await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ customer_id: 'c-newcomer' }))
      .expect(201);
    const row = await h.services.db('customer_summaries').where('customer_id', 'c-newcomer');
    expect(row).toEqual([expect.objectContaining({ orders_count: 0 })]);
  });
});

describe('POST /orders as a customer', () => {
  it("uses the customer's own id when customer_id is omitted", async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('alice'))
      .send(orderBody({ customer_id: undefined }));
    expect(res.status).toBe(201);
    expect(res.body.customer_id).toBe('c-alice');
  });

  it('refuses an order for another customer with 403', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('alice'))
      .send(orderBody({ customer_id: 'c-bob' }));
    expect(res.status).toBe(403);
    expect(res.body.errors).toEqual([
      { path: '/customer_id', message: 'customers may only order for themselves' },
    ]);
  });

  it("refuses a manager's batch naming no customer with 400, listing each order", async () => {
    const anonymous: Record<string, unknown> = orderBody();
    delete anonymous.customer_id;
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send([orderBody(), anonymous, anonymous]);
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('customer_id is required.');
    expect(res.body.errors).toEqual([
      { path: '/1/customer_id', message: 'is required for managers' },
      { path: '/2/customer_id', message: 'is required for managers' },
    ]);
  });
});

describe('POST /orders with a batch', () => {
  it('stores every order and answers {data} in input order', async () => {
    const body = [1, 2, 3].map((n) => orderBody({ order_id: `batch-${n}` }));
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(201);
    expect(res.body.data.map((o: { order_id: string }) => o.order_id)).toEqual([
      'batch-1',
      'batch-2',
      'batch-3',
    ]);
    expect(res.headers.location).toBeUndefined();
  });

  it('stores nothing when one element is invalid, and names it like /3/items/0/quantity', async () => {
    const body = [0, 1, 2, 3].map((n) => orderBody({ order_id: `bad-batch-${n}` }));
    body[3]!.items = [{ sku: 'A', name: 'a', quantity: 0, unit_price: '1.00' }];
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/3/items/0/quantity' })]);
    expect(await h.services.db('orders').where('order_id', 'like', 'bad-batch-%')).toEqual([]);
  });

  it('stores nothing when a currency rule fails in one element', async () => {
    const body = [0, 1].map((n) => orderBody({ order_id: `bad-scale-${n}` }));
    body[1]!.items = [{ sku: 'A', name: 'a', quantity: 1, unit_price: '1.001' }];
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/1/items/0/unit_price' })]);
    expect(await h.services.db('orders').where('order_id', 'like', 'bad-scale-%')).toEqual([]);
  });

  it('answers 409 for an id repeated inside the batch and stores nothing', async () => {
    const body = [
      orderBody({ order_id: 'twice' }),
      orderBody({ order_id: 'other' }),
      orderBody({ order_id: 'twice' }),
    ];
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(409);
    expect(await h.services.db('orders').whereIn('order_id', ['twice', 'other'])).toEqual([]);
  });

  it('answers 409 and rolls back the whole batch when one id already exists', async () => {
    await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(orderBody({ order_id: 'exists-already' }));
    const body = [orderBody({ order_id: 'new-one' }), orderBody({ order_id: 'exists-already' })];
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/exists-already/);
    expect(await h.services.db('orders').where('order_id', 'new-one')).toEqual([]);
  });

  it('accepts 500 orders in one request (within the 1 MiB body limit)', async () => {
    const items = Array.from({ length: 10 }, (_, i) => ({
      sku: `S${i}`,
      name: 'n',
      quantity: 1,
      unit_price: '1.00',
    }));
    const body = Array.from({ length: 500 }, (_, n) => ({
      order_id: `big-${n}`,
      customer_id: 'c-big',
      currency: 'EUR',
      items,
    }));
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(201);
    expect(res.body.data).toHaveLength(500);
    const [row] = await h.services
      .db('order_items')
      .where('order_id', 'like', 'big-%')
      .count('* as n');
    expect(Number(row?.n)).toBe(5_000);
  });

  it('rejects 501 orders', async () => {
    const body = Array.from({ length: 501 }, () => orderBody());
    const res = await h.api.post('/orders').set('Authorization', manager()).send(body);
    expect(res.status).toBe(400);
  });
});

describe('text that MySQL would change', () => {
  it('rejects lone surrogates with 400 instead of storing a different string', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(
        orderBody({
          order_id: 'surrogate',
          items: [{ sku: '\ud800x', name: 'n', quantity: 1, unit_price: '1.00' }],
        }),
      );
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/items/0/sku', message: 'must be well-formed Unicode' },
    ]);
  });

  it('stores and returns other Unicode exactly', async () => {
    const name = 'Thé vert 🍵 — 緑茶';
    const res = await h.api
      .post('/orders')
      .set('Authorization', manager())
      .send(
        orderBody({
          order_id: 'unicode',
          items: [{ sku: 'TEA', name, quantity: 1, unit_price: '1.00' }],
          metadata: { note: '💚' },
        }),
      );
    expect(res.status).toBe(201);
    const read = await h.api.get('/orders/unicode').set('Authorization', manager());
    expect(read.body.items[0].name).toBe(name);
    expect(read.body.metadata).toEqual({ note: '💚' });
  });
});
