import type { Knex } from 'knex';
import { format, SqlValue } from 'mysql2';
import { updateCustomerReadModels } from '../src/data-access/customer-read-models';
import { withTransaction } from '../src/data-access/transaction';
import type { Order } from '../src/domain/order';
import { customerId, OrderGenerator } from './order-generator';
import { withoutSecondaryIndexes } from './secondary-indexes';

/** Orders per transaction: about 7,000 item rows, well under a 16 MB max_allowed_packet. */
const CHUNK = 2000;
/** From this many orders on, the orders table's secondary indexes are rebuilt afterwards. */
const REBUILD_INDEXES_FROM = 50_000;
/** Transactions in flight: one per core here, on disjoint key ranges. */
const LANES = 2;

export interface SeedResult {
  orders: number;
  customers: number;
  seconds: number;
  /** Every k-th id in id order, about `sampleSize` of them: random ids that exist. */
  sampleIds: string[];
}

/**
 * Writes the generator's orders into a migrated database, as the service would have stored
 * them: the order tables in id order (appends to their primary keys rather than a random leaf
 * page per row, which a 128 MB buffer pool no longer holds well before a million orders), then
 * the read models of the completed ones customer by customer, through the worker's own
 * updateCustomerReadModels, and a zero summary for every customer with orders (as placing one
 * does). Adds to what is there already: the read models are upserts.
 */
export async function seedOrders(
  db: Knex,
  gen: OrderGenerator,
  {
    sampleSize = 20_000,
    rebuildIndexes = gen.orders >= REBUILD_INDEXES_FROM,
    log = (_line: string) => {},
  } = {},
): Promise<SeedResult> {
  const started = Date.now();
  const ids = Array.from({ length: gen.orders }, (_, i) => gen.orderId(i));
  const byId = Array.from(ids.keys()).sort((a, b) => (ids[a]! < ids[b]! ? -1 : 1));
  const every = Math.max(1, Math.floor(gen.orders / sampleSize));
  const sampleIds = byId.filter((_, k) => k % every === 0).map((i) => ids[i]!);

  let written = 0;
  const writeAll = () =>
    inLanes(chunks(byId, CHUNK), async (chunk) => {
      const orders = chunk.map((i) => gen.order(i, ids[i]));
      await withTransaction(db, (trx) => writeOrders(trx, orders));
      written += orders.length;
      if (written % (CHUNK * 50) < orders.length) log(`${written} orders written`);
    });
  await (rebuildIndexes ? withoutSecondaryIndexes(db, 'orders', writeAll) : writeAll());
  log(`${written} orders written in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const groups = ordersByCustomer(gen);
  await inLanes(customerChunks(groups), (chunk) =>
    withTransaction(db, async (trx) => {
      const orders = chunk.flatMap((g) => g.orders.map((i) => gen.order(i, ids[i])));
      await trx('customer_summaries')
        .insert(chunk.map((g) => ({ customer_id: g.id })))
        .onConflict('customer_id')
        .ignore();
      await updateCustomerReadModels(
        trx,
        orders.filter((o) => o.status === 'completed'),
      );
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  log(`read models of ${groups.length} customers written; ${seconds.toFixed(1)} s in all`);
  return { orders: gen.orders, customers: groups.length, seconds, sampleIds };
}

/** Each lane works through its own contiguous share of the chunks, in order. */
async function inLanes<T>(all: T[], work: (chunk: T) => Promise<void>): Promise<void> {
  const per = Math.ceil(all.length / LANES);
  await Promise.all(
    chunks(all, per).map(async (lane) => {
      for (const chunk of lane) await work(chunk);
    }),
  );
}

function chunks<T>(all: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let k = 0; k < all.length; k += size) out.push(all.slice(k, k + size));
  return out;
}

type Group = { id: string; orders: number[] };

/** Customers in id order, about CHUNK orders to a chunk. */
function customerChunks(groups: Group[]): Group[][] {
  const out: Group[][] = [];
  let current: Group[] = [];
  let size = 0;
  for (const g of groups) {
    current.push(g);
    size += g.orders.length;
    if (size >= CHUNK) [out[out.length], current, size] = [current, [], 0];
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Multi-row INSERTs formatted by mysql2's own escaping (dates in UTC, as the service's
 * connections write them) and sent as plain SQL: knex would walk every binding of every row
 * first, which costs as much as the formatting.
 */
function insert(trx: Knex.Transaction, table: string, columns: string[], rows: SqlValue[][]) {
  return trx.raw(format('INSERT INTO ?? (??) VALUES ?', [table, columns, rows], false, 'Z'));
}

async function writeOrders(trx: Knex.Transaction, orders: Order[]): Promise<void> {
  await insert(
    trx,
    'orders',
    [
      ...['order_id', 'customer_id', 'status', 'currency', 'total', 'metadata', 'version'],
      ...['created_at', 'updated_at', 'completed_at'],
    ],
    orders.map((o) => [
      o.order_id,
      o.customer_id,
      o.status,
      o.currency,
      o.total,
      Object.keys(o.metadata).length > 0 ? JSON.stringify(o.metadata) : null,
      o.version,
      o.created_at,
      o.updated_at,
      o.completed_at,
    ]),
  );
  await insert(
    trx,
    'order_items',
    ['order_id', 'line_no', 'sku', 'name', 'quantity', 'unit_price', 'line_total'],
    orders.flatMap((o) =>
      o.items.map((item, line) => [
        o.order_id,
        line,
        item.sku,
        item.name,
        item.quantity,
        item.unit_price,
        item.line_total,
      ]),
    ),
  );
  await insert(
    trx,
    'order_status_history',
    ['order_id', 'version', 'status', 'at'],
    orders.flatMap((o) => o.status_history.map((h, v) => [o.order_id, v + 1, h.status, h.at])),
  );
}

/** Order indices grouped by customer, customers in id order (the read models' key order). */
function ordersByCustomer(gen: OrderGenerator): Group[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < gen.orders; i++) {
    const c = gen.customerOf(i);
    const group = groups.get(c);
    if (group) group.push(i);
    else groups.set(c, [i]);
  }
  return [...groups.entries()]
    .map(([c, orders]) => ({ id: customerId(c), orders }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}
