import { transition } from '../../src/domain/order';
import { Harness, orderBody, pendingOrder, startHarness, waitUntil } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { jobBackoffMs: 10 });
  await h.startWorkers();
  const orders = [
    orderBody({
      order_id: 'a-1',
      items: [{ sku: 'TEA', name: 'Tea', quantity: 2, unit_price: '9.99' }],
    }),
    orderBody({
      order_id: 'a-2',
      items: [
        { sku: 'TEA', name: 'Green tea', quantity: 1, unit_price: '9.99' },
        { sku: 'CUP', name: 'Cup', quantity: 3, unit_price: '0.10' },
        { sku: 'TEA', name: 'Green tea', quantity: 1, unit_price: '10.01' },
      ],
    }),
    orderBody({
      order_id: 'a-3',
      currency: 'JPY',
      items: [{ sku: 'TEA', name: 'Tea', quantity: 1, unit_price: '500' }],
    }),
    orderBody({ order_id: 'b-1', customer_id: 'c-bob' }),
  ];
  await h.api.post('/orders').set('Authorization', h.basic('manager')).send(orders).expect(201);
  await waitUntil(async () => {
    const rows = await h.services.db('orders').where('status', 'completed');
    return rows.length === orders.length;
  });
  // Orders that are not completed must not count as purchases (never enqueued, so they stay).
  await h.services.repositories.orders.insertOrders([
    pendingOrder('a-pending', 'c-alice'),
    pendingOrder('a-cancelled', 'c-alice'),
  ]);
  await h.services.repositories.orders.transition(
    'a-cancelled',
    transition('pending', 'cancelled'),
  );
});
afterAll(async () => h.stop());

describe('GET /customers/{id}/items', () => {
  it('aggregates completed orders per (sku, currency) with exact decimals', async () => {
    const res = await h.api.get('/customers/c-alice/items').set('Authorization', h.basic('alice'));
    expect(res.status).toBe(200);
    expect(res.body.customer_id).toBe('c-alice');
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data).toEqual([
      expect.objectContaining({
        sku: 'CUP',
        currency: 'USD',
        quantity: 3,
        amount: '0.30',
        orders: 1,
      }),
      expect.objectContaining({
        sku: 'TEA',
        currency: 'JPY',
        quantity: 1,
        amount: '500',
        orders: 1,
      }),
      expect.objectContaining({
        sku: 'TEA',
        currency: 'USD',
        quantity: 4,
        amount: '39.98',
        orders: 2,
      }),
    ]);
    const tea = res.body.data[2];
    expect(tea.name).toBe('Green tea');
    expect(new Date(tea.first_purchased_at).getTime()).toBeLessThanOrEqual(
      new Date(tea.last_purchased_at).getTime(),
    );
  });

  it('pages with a cursor', async () => {
    const first = await h.api
      .get('/customers/c-alice/items?limit=2')
      .set('Authorization', h.basic('manager'));
    expect(first.body.data).toHaveLength(2);
    const second = await h.api
      .get(`/customers/c-alice/items?limit=2&cursor=${first.body.next_cursor}`)
      .set('Authorization', h.basic('manager'));
    expect(
      second.body.data.map((i: { sku: string; currency: string }) => `${i.sku}/${i.currency}`),
    ).toEqual(['TEA/USD']);
    expect(second.body.next_cursor).toBeNull();
  });

  it("refuses another customer's items with 403", async () => {
    const res = await h.api.get('/customers/c-bob/items').set('Authorization', h.basic('alice'));
    expect(res.status).toBe(403);
  });

  it('answers 404 for a customer with no orders at all', async () => {
    const res = await h.api
      .get('/customers/c-nobody/items')
      .set('Authorization', h.basic('manager'));
    expect(res.status).toBe(404);
  });
});

describe('GET /customers/{id}/summary', () => {
  it('counts completed orders only, with totals per currency', async () => {
    const res = await h.api
      .get('/customers/c-alice/summary')
      .set('Authorization', h.basic('alice'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      customer_id: 'c-alice',
      orders_count: 3,
      items_count: 8,
      totals: [
        { currency: 'JPY', amount: '500' },
        { currency: 'USD', amount: '40.28' },
      ],
    });
    expect(res.body.first_order_at).not.toBeNull();
  });

  it("refuses another customer's summary with 403 and answers 404 for an unknown one", async () => {
    expect(
      (await h.api.get('/customers/c-bob/summary').set('Authorization', h.basic('alice'))).status,
    ).toBe(403);
    expect(
      (await h.api.get('/customers/c-none/summary').set('Authorization', h.basic('manager')))
        .status,
    ).toBe(404);
  });
});

describe('GET /customers/summaries', () => {
  it('lists every customer by customer_id for managers, paged', async () => {
    const first = await h.api
      .get('/customers/summaries?limit=1')
      .set('Authorization', h.basic('manager'));
    expect(first.status).toBe(200);
    expect(first.body.data.map((s: { customer_id: string }) => s.customer_id)).toEqual(['c-alice']);
    const second = await h.api
      .get(`/customers/summaries?limit=1&cursor=${first.body.next_cursor}`)
      .set('Authorization', h.basic('manager'));
    expect(second.body.data).toEqual([
      expect.objectContaining({
        customer_id: 'c-bob',
        orders_count: 1,
        totals: [{ currency: 'USD', amount: '19.98' }],
      }),
    ]);
  });

  it('is for managers only', async () => {
    const res = await h.api.get('/customers/summaries').set('Authorization', h.basic('alice'));
    expect(res.status).toBe(403);
  });
});
