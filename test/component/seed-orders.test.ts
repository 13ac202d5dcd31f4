/*
 * The bench seeder (bench/seed-orders.ts) writes what the service itself would have stored: the
 * same orders placed as pending through the repository and completed by the real worker give
 * the same read models, row for row and through the read endpoints.
 */
import { createOrderGenerator, OrderGenerator } from '../../bench/order-generator';
import { seedOrders } from '../../bench/seed-orders';
import type { Order } from '../../src/domain/order';
import { priceOrders } from '../../src/domain/price-orders';
import { Harness, startHarness, waitUntil } from '../helpers/harness';
import { readAll, readModelRows } from './helpers/read-models';

jest.setTimeout(120_000);

const now = new Date('2026-11-30T12:00:00.000Z');
// Two seedings of one database, the second with more customers (some shared): the read
// models of the second add to those of the first.
const gens = [
  createOrderGenerator({ seed: 'first', orders: 300, customers: 6, now }),
  createOrderGenerator({ seed: 'second', orders: 500, customers: 10, now }),
];
const all = (gen: OrderGenerator) => Array.from({ length: gen.orders }, (_, i) => gen.order(i));

let seeded: Harness;
let replayed: Harness;
let indexesBefore: unknown;

beforeAll(async () => {
  seeded = await startHarness();
  indexesBefore = await indexes(seeded);
  await seedOrders(seeded.services.db, gens[0]!);
  // The second seeding also drops and rebuilds the orders table's secondary indexes.
  await seedOrders(seeded.services.db, gens[1]!, { rebuildIndexes: true });

  replayed = await startHarness({}, { jobBackoffMs: 10 });
  // Only the orders that end completed: the reconciler would pick up (and complete) old
  // pending ones, and no other status counts in the read models.
  const orders = gens.flatMap(all);
  const completed = orders.filter((o) => o.status === 'completed');
  const { repositories, orderQueue } = replayed.services;
  await repositories.orders.insertOrders(completed.map(asPlaced));
  await repositories.customers.ensureListed(orders.map((o) => o.customer_id));
  await orderQueue.enqueue(completed.map((o) => o.order_id));
  await replayed.startWorkers();
  await waitUntil(
    async () => {
      const [row] = await replayed.services
        .db('orders')
        .where('status', 'completed')
        .count('* as n');
      return Number(row!.n) === completed.length;
    },
    { timeoutMs: 60_000, what: 'the worker to complete the replayed orders' },
  );
});
afterAll(async () => Promise.all([seeded?.stop(), replayed?.stop()]));

/** The order as POST /orders would have stored it, before any transition. */
function asPlaced(o: Order): Order {
  const placed = { status: 'pending' as const, at: o.created_at };
  return {
    ...o,
    ...placed,
    version: 1,
    updated_at: o.created_at,
    completed_at: null,
    status_history: [placed],
  };
}

/** The orders table's indexes, column by column, in name order (SHOW INDEX lists them by age). */
async function indexes(h: Harness) {
  const [rows] = await h.services.db.raw('SHOW INDEX FROM orders');
  return (rows as Record<string, string | number>[])
    .map(({ Cardinality: _, ...r }) => r)
    .sort((a, b) =>
      `${a.Key_name}/${a.Seq_in_index}`.localeCompare(`${b.Key_name}/${b.Seq_in_index}`),
    );
}

it('stores the read models the worker builds from the same orders, row for row', async () => {
  const [mine, theirs] = await Promise.all([readModelRows(seeded), readModelRows(replayed)]);
  expect(mine.customer_items.length).toBeGreaterThan(100);
  expect(mine).toEqual(theirs);
});

it('answers the read endpoints as the service that completed those orders does', async () => {
  const [mine, theirs] = await Promise.all([readAll(seeded), readAll(replayed)]);
  expect(mine.summaries.length).toBe(10);
  expect(mine).toEqual(theirs);
});

it('stores completed orders with the versions and history the worker leaves', async () => {
  const pick = (h: Harness) =>
    h.services
      .db('orders')
      .where('status', 'completed')
      .orderBy('order_id')
      .select('order_id', 'customer_id', 'currency', 'total', 'version', 'created_at');
  expect(await pick(seeded)).toEqual(await pick(replayed));
  const history = (h: Harness) =>
    h.services
      .db('order_status_history as h')
      .join('orders as o', 'o.order_id', 'h.order_id')
      .where('o.status', 'completed')
      .orderBy(['h.order_id', 'h.version'])
      .select('h.order_id', 'h.version', 'h.status');
  expect(await history(seeded)).toEqual(await history(replayed));
});

it('stores orders in every status, mostly completed, each valid as GET /orders/{id}', async () => {
  const orders = gens.flatMap(all);
  const counts = new Map<string, number>();
  for (const o of orders) counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
  expect([...counts.keys()].sort()).toEqual([
    'cancelled',
    'completed',
    'failed',
    'pending',
    'processing',
  ]);
  expect(counts.get('completed')! / orders.length).toBeGreaterThan(0.8);
  for (const status of counts.keys()) {
    const order = orders.find((o) => o.status === status)!;
    // The harness validates every response against the OpenAPI document.
    const res = await seeded.api
      .get(`/orders/${order.order_id}`)
      .set('Authorization', seeded.basic('manager'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(order)));
  }
});

it('prices every order as the domain does', () => {
  for (const o of gens.flatMap(all)) {
    const input = o.items.map(({ line_total: _, ...item }) => item);
    const [priced] = priceOrders([{ currency: o.currency, items: input }], false);
    expect({ items: o.items, total: o.total }).toEqual({
      items: priced!.items,
      total: priced!.total,
    });
  }
});

it('puts the secondary indexes back as they were after rebuilding them', async () => {
  expect(await indexes(seeded)).toEqual(indexesBefore);
});
