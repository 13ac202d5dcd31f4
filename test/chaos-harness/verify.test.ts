/*
 * The chaos suite's checker, checked: a verdict of "0 lost, 0 doubled" is only worth what the
 * checker can see. Hand-made snapshots for each kind of damage, then the real repository
 * writing read models into a throwaway database, read back by loadSnapshot.
 */
import { createDb, Db } from '../../src/data-access/db';
import { migrationConfig } from '../../src/data-access/migrations';
import { createOrderRepository } from '../../src/data-access/order-repository';
import { type Order, transition } from '../../src/domain/order';
import type { SentOrder } from '../../chaos/order-generator';
import {
  checkOrders,
  compareReadModels,
  contentAnomalies,
  historyAnomalies,
  loadSnapshot,
  Snapshot,
  verify,
} from '../../chaos/verify';
import { createTestDatabase, dropDatabase } from '../helpers/harness';

const T1 = new Date('2026-12-01T10:00:00.000Z');
const T2 = new Date('2026-12-01T10:00:01.500Z');

const sentA: SentOrder = {
  order_id: 'a',
  customer_id: 'c-1',
  currency: 'USD',
  items: [
    { sku: 'TEA', name: 'Tea', quantity: 2, unit_price: '9.99' },
    { sku: 'TEA', name: 'Tea', quantity: 1, unit_price: '1.01' },
    { sku: 'CUP', name: 'Cup', quantity: 1, unit_price: '4.50' },
  ],
};
const sentB: SentOrder = {
  order_id: 'b',
  customer_id: 'c-1',
  currency: 'KWD',
  items: [{ sku: 'TEA', name: 'Tea', quantity: 3, unit_price: '0.125' }],
};
const sentC: SentOrder = {
  order_id: 'c',
  customer_id: 'c-2',
  currency: 'JPY',
  items: [{ sku: 'POT', name: 'Pot', quantity: 1, unit_price: '1500' }],
};
const SENT = new Map([sentA, sentB, sentC].map((o) => [o.order_id, o]));

/** a and b completed for c-1, c cancelled for c-2: the read models as the service keeps them. */
function goodSnapshot(): Snapshot {
  return {
    orders: [
      order('a', 'c-1', 'completed', 'USD', '25.4900', 3, T1),
      order('b', 'c-1', 'completed', 'KWD', '0.3750', 3, T2),
      order('c', 'c-2', 'cancelled', 'JPY', '1500.0000', 2, T2),
    ],
    items: [
      item('a', 0, 'TEA', 'Tea', 2, '9.9900', '19.9800'),
      item('a', 1, 'TEA', 'Tea', 1, '1.0100', '1.0100'),
      item('a', 2, 'CUP', 'Cup', 1, '4.5000', '4.5000'),
      item('b', 0, 'TEA', 'Tea', 3, '0.1250', '0.3750'),
      item('c', 0, 'POT', 'Pot', 1, '1500.0000', '1500.0000'),
    ],
    history: [
      ...walk('a', ['pending', 'processing', 'completed']),
      ...walk('b', ['pending', 'processing', 'completed']),
      ...walk('c', ['pending', 'cancelled']),
    ],
    customerItems: [
      customerItem('c-1', 'TEA', 'USD', 3, '20.9900', 1, T1, T1),
      customerItem('c-1', 'CUP', 'USD', 1, '4.5000', 1, T1, T1),
      customerItem('c-1', 'TEA', 'KWD', 3, '0.3750', 1, T2, T2),
    ],
    customerTotals: [
      { customer_id: 'c-1', currency: 'USD', amount: '25.4900' },
      { customer_id: 'c-1', currency: 'KWD', amount: '0.3750' },
    ],
    customerSummaries: [
      {
        customer_id: 'c-1',
        orders_count: 2,
        items_count: 7,
        first_order_at: T1,
        last_order_at: T2,
      },
      {
        customer_id: 'c-2',
        orders_count: 0,
        items_count: 0,
        first_order_at: null,
        last_order_at: null,
      },
    ],
  };
}

describe('the chaos checker on hand-made snapshots', () => {
  it('finds nothing wrong with read models that match the completed orders', () => {
    const v = verify(goodSnapshot(), SENT, new Set(['a', 'b', 'c']));
    expect(v.mismatches).toEqual([]);
    expect([v.lost, v.doubled, v.history, v.corrupt, v.phantom, v.unprocessed]).toEqual([
      [],
      [],
      [],
      [],
      [],
      [],
    ]);
  });

  it('sees an order applied twice to the read models of its customer', () => {
    const s = goodSnapshot();
    s.customerItems[1] = customerItem('c-1', 'CUP', 'USD', 2, '9.0000', 2, T1, T1);
    s.customerTotals[0]!.amount = '30.0000';
    s.customerSummaries[0]!.orders_count = 3;
    const fields = compareReadModels(s).map((m) => `${m.table}.${m.field}`);
    expect(fields).toEqual([
      'customer_items.quantity',
      'customer_items.amount',
      'customer_items.orders',
      'customer_totals.amount',
      'customer_summaries.orders_count',
    ]);
    expect(verify(s, SENT, new Set(['a', 'b'])).doubled).toEqual(['c-1']);
  });

  it('sees a completion missing from the read models and a cancelled order counted', () => {
    const missing = goodSnapshot();
    missing.customerItems.pop();
    missing.customerTotals.pop();
    expect(compareReadModels(missing).map((m) => `${m.table} ${m.key} ${m.field}`)).toEqual([
      'customer_items c-1|TEA|KWD row',
      'customer_totals c-1|KWD row',
    ]);

    const counted = goodSnapshot();
    counted.customerTotals.push({ customer_id: 'c-2', currency: 'JPY', amount: '1500.0000' });
    counted.customerSummaries[1]!.first_order_at = T2;
    expect(compareReadModels(counted).map((m) => `${m.table}.${m.field}`)).toEqual([
      'customer_totals.row',
      'customer_summaries.first_order_at',
    ]);
  });

  it('compares amounts as decimals, not as strings, and times to the millisecond', () => {
    const s = goodSnapshot();
    s.customerTotals[0]!.amount = '25.49';
    expect(compareReadModels(s)).toEqual([]);
    s.customerItems[0]!.last_purchased_at = new Date(T1.getTime() + 1);
    expect(compareReadModels(s).map((m) => m.field)).toEqual(['last_purchased_at']);
  });

  it('counts acknowledged orders that are missing, unfinished or failed as lost, not cancelled ones', () => {
    const s = goodSnapshot();
    s.orders[1]!.status = 'failed';
    const check = checkOrders(s, SENT, new Set(['a', 'b', 'c', 'never-stored']));
    expect(check.lost.sort()).toEqual(['b', 'never-stored']);
  });

  it('tells stored-but-unacknowledged orders apart, and those left unfinished', () => {
    const s = goodSnapshot();
    s.orders[2]!.status = 'pending';
    const check = checkOrders(s, SENT, new Set(['a']));
    expect(check.unacknowledgedStored).toEqual(['b', 'c']);
    expect(check.unprocessed).toEqual(['c']);
    expect(check.lost).toEqual([]);
  });

  it('flags stored orders the client never sent', () => {
    const s = goodSnapshot();
    s.orders.push(order('x', 'c-9', 'pending', 'USD', '1.0000', 1, T1));
    expect(checkOrders(s, SENT, new Set()).phantom).toEqual(['x']);
  });

  it('flags a history with a step taken twice, a missing step or rows of no order', () => {
    const s = goodSnapshot();
    s.history.push({ order_id: 'a', version: 4, status: 'completed' });
    s.history = s.history.filter((h) => !(h.order_id === 'b' && h.status === 'processing'));
    s.history.push({ order_id: 'ghost', version: 1, status: 'pending' });
    expect(historyAnomalies(s)).toEqual(['a', 'b', 'ghost']);
  });

  it('flags an order stored with other lines or money than were sent', () => {
    const s = goodSnapshot();
    s.items[3]!.unit_price = '0.1240';
    s.orders[0]!.total = '25.5100';
    expect(contentAnomalies(s, SENT)).toEqual(['a', 'b']);
  });
});

describe('the chaos checker on what the service writes', () => {
  let url: string;
  let db: Db;

  beforeAll(async () => {
    url = await createTestDatabase();
    db = createDb(url, { min: 0, max: 2 });
    await db.migrate.latest(migrationConfig);
  });
  afterAll(async () => {
    await db.destroy();
    await dropDatabase(url);
  });

  it('agrees with the repository on completed orders, then sees a read model bumped by one', async () => {
    const orders = createOrderRepository(db);
    await orders.insertOrders([toOrder(sentA, T1), toOrder(sentB, T2), toOrder(sentC, T2)]);
    // Placing orders lists their customers (a zero summary); where that happens is the
    // service's business, the checker only needs the row.
    await db('customer_summaries')
      .insert([{ customer_id: 'c-1' }, { customer_id: 'c-2' }])
      .onConflict('customer_id')
      .ignore();
    for (const id of ['a', 'b']) {
      expect(await orders.transition(id, transition('pending', 'processing'))).toBe(true);
      expect(await orders.transition(id, transition('processing', 'completed'))).toBe(true);
    }
    // A duplicate delivery: the guarded update must refuse it, and the checker agree.
    expect(await orders.transition('a', transition('processing', 'completed'))).toBe(false);

    const clean = verify(await loadSnapshot(db), SENT, new Set(['a', 'b', 'c']));
    expect(clean.mismatches).toEqual([]);
    expect(clean.history).toEqual([]);
    expect(clean.corrupt).toEqual([]);
    expect(clean.lost).toEqual(['c']);

    await db('customer_items')
      .where({ customer_id: 'c-1', sku: 'TEA', currency: 'USD' })
      .increment('quantity', 1);
    const bumped = verify(await loadSnapshot(db), SENT, new Set(['a', 'b']));
    expect(bumped.doubled).toEqual(['c-1']);
    expect(bumped.mismatches).toMatchObject([
      {
        table: 'customer_items',
        key: 'c-1|TEA|USD',
        field: 'quantity',
        expected: '3',
        actual: '4',
      },
    ]);
  });
});

function order(
  order_id: string,
  customer_id: string,
  status: string,
  currency: string,
  total: string,
  version: number,
  created_at: Date,
) {
  return { order_id, customer_id, status, currency, total, version, created_at };
}

function item(
  order_id: string,
  line_no: number,
  sku: string,
  name: string,
  quantity: number,
  unit_price: string,
  line_total: string,
) {
  return { order_id, line_no, sku, name, quantity, unit_price, line_total };
}

function walk(order_id: string, statuses: string[]) {
  return statuses.map((status, i) => ({ order_id, version: i + 1, status }));
}

function customerItem(
  customer_id: string,
  sku: string,
  currency: string,
  quantity: number,
  amount: string,
  orders: number,
  first: Date,
  last: Date,
) {
  const name = sku === 'TEA' ? 'Tea' : sku === 'CUP' ? 'Cup' : 'Pot';
  return {
    customer_id,
    sku,
    currency,
    name,
    quantity,
    amount,
    orders,
    first_purchased_at: first,
    last_purchased_at: last,
  };
}

/** What place-orders would build from the sent order (prices are exact in these cases). */
function toOrder(sent: SentOrder, at: Date): Order {
  const items = sent.items.map((i) => ({
    ...i,
    line_total: (Number(i.unit_price) * i.quantity).toFixed(4),
  }));
  const total = items.reduce((n, i) => n + Number(i.line_total), 0).toFixed(4);
  return {
    order_id: sent.order_id,
    customer_id: sent.customer_id,
    status: 'pending',
    currency: sent.currency,
    items,
    total,
    metadata: {},
    version: 1,
    created_at: at,
    updated_at: at,
    completed_at: null,
    status_history: [],
  };
}
