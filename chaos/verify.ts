/*
 * The checker. It trusts nothing the service computed: the read models are recomputed from
 * the orders and order_items tables (completed orders only, as the contract counts purchases),
 * every stored order is compared with what the client sent, and every history must be one
 * clean walk through the lifecycle. Pure functions over a snapshot, so they are unit-tested
 * on hand-made data; loadSnapshot reads one from a database.
 */
import Decimal from 'decimal.js';
import type { Knex } from 'knex';
import type { SentOrder } from './order-generator';

/** Sums of DECIMAL(38,4) need more than decimal.js's default 20 significant digits. */
const Exact = Decimal.clone({ precision: 80 });

export interface StoredOrder {
  order_id: string;
  customer_id: string;
  status: string;
  currency: string;
  total: string;
  version: number;
  created_at: Date;
}
export interface StoredItem {
  order_id: string;
  line_no: number;
  sku: string;
  name: string;
  quantity: number;
  unit_price: string;
  line_total: string;
}
export interface HistoryRow {
  order_id: string;
  version: number;
  status: string;
}
export interface CustomerItemRow {
  customer_id: string;
  sku: string;
  currency: string;
  name: string;
  quantity: number | string;
  amount: string;
  orders: number;
  first_purchased_at: Date;
  last_purchased_at: Date;
}
export interface CustomerTotalRow {
  customer_id: string;
  currency: string;
  amount: string;
}
export interface CustomerSummaryRow {
  customer_id: string;
  orders_count: number;
  items_count: number | string;
  first_order_at: Date | null;
  last_order_at: Date | null;
}

export interface Snapshot {
  orders: StoredOrder[];
  items: StoredItem[];
  history: HistoryRow[];
  customerItems: CustomerItemRow[];
  customerTotals: CustomerTotalRow[];
  customerSummaries: CustomerSummaryRow[];
}

export async function loadSnapshot(db: Knex): Promise<Snapshot> {
  // One consistent read of all seven tables, so a late transition cannot fall between them.
  return db.transaction(
    async (trx) => ({
      orders: await trx('orders').select(
        'order_id',
        'customer_id',
        'status',
        'currency',
        'total',
        'version',
        'created_at',
      ),
      items: await trx('order_items').select(
        'order_id',
        'line_no',
        'sku',
        'name',
        'quantity',
        'unit_price',
        'line_total',
      ),
      history: await trx('order_status_history').select('order_id', 'version', 'status'),
      customerItems: await trx('customer_items').select('*'),
      customerTotals: await trx('customer_totals').select('*'),
      customerSummaries: await trx('customer_summaries').select('*'),
    }),
    { isolationLevel: 'repeatable read' },
  );
}

export interface Mismatch {
  customer_id: string;
  table: 'customer_items' | 'customer_totals' | 'customer_summaries';
  key: string;
  field: string;
  expected: string;
  actual: string;
}

const same = (a: Decimal.Value, b: Decimal.Value) => new Exact(a).equals(new Exact(b));
const time = (d: Date | null | undefined) => (d ? new Date(d).getTime() : null);
const show = (v: unknown) =>
  v === undefined ? '(no row)' : v instanceof Date ? v.toISOString() : String(v);

interface ExpectedItem {
  customer_id: string;
  sku: string;
  currency: string;
  quantity: number;
  amount: Decimal;
  orders: Set<string>;
  first: number;
  last: number;
  /** Names seen on the orders created at `last`: any of them may be the one kept. */
  lastNames: Set<string>;
}

/** The read models as they must be: aggregates over completed orders only. */
export function recompute(snapshot: Pick<Snapshot, 'orders' | 'items'>) {
  const completed = new Map(
    snapshot.orders.filter((o) => o.status === 'completed').map((o) => [o.order_id, o]),
  );
  const items = new Map<string, ExpectedItem>();
  const totals = new Map<string, { customer_id: string; currency: string; amount: Decimal }>();
  const summaries = new Map<
    string,
    { orders: number; items: number; first: number | null; last: number | null }
  >();
  for (const o of snapshot.orders) {
    summaries.set(o.customer_id, { orders: 0, items: 0, first: null, last: null });
  }
  for (const o of completed.values()) {
    const at = time(o.created_at)!;
    const s = summaries.get(o.customer_id)!;
    s.orders += 1;
    s.first = s.first === null ? at : Math.min(s.first, at);
    s.last = s.last === null ? at : Math.max(s.last, at);
    const tKey = `${o.customer_id}|${o.currency}`;
    const t = totals.get(tKey) ?? {
      customer_id: o.customer_id,
      currency: o.currency,
      amount: new Exact(0),
    };
    t.amount = t.amount.plus(o.total);
    totals.set(tKey, t);
  }
  for (const item of snapshot.items) {
    const o = completed.get(item.order_id);
    if (!o) continue;
    const at = time(o.created_at)!;
    summaries.get(o.customer_id)!.items += Number(item.quantity);
    const key = `${o.customer_id}|${item.sku}|${o.currency}`;
    let e = items.get(key);
    if (!e) {
      e = {
        customer_id: o.customer_id,
        sku: item.sku,
        currency: o.currency,
        quantity: 0,
        amount: new Exact(0),
        orders: new Set(),
        first: at,
        last: at,
        lastNames: new Set(),
      };
      items.set(key, e);
    }
    e.quantity += Number(item.quantity);
    e.amount = e.amount.plus(item.line_total);
    e.orders.add(o.order_id);
    e.first = Math.min(e.first, at);
    if (at > e.last) e.lastNames.clear();
    if (at >= e.last) e.lastNames.add(item.name);
    e.last = Math.max(e.last, at);
  }
  return { items, totals, summaries };
}

/** Every difference between the read-model tables and the recomputation. */
export function compareReadModels(snapshot: Snapshot): Mismatch[] {
  const expected = recompute(snapshot);
  const out: Mismatch[] = [];
  const diff = (
    table: Mismatch['table'],
    customer_id: string,
    key: string,
    field: string,
    exp: unknown,
    act: unknown,
  ) => out.push({ table, customer_id, key, field, expected: show(exp), actual: show(act) });

  const seenItems = new Set<string>();
  for (const row of snapshot.customerItems) {
    const key = `${row.customer_id}|${row.sku}|${row.currency}`;
    seenItems.add(key);
    const e = expected.items.get(key);
    if (!e) {
      diff('customer_items', row.customer_id, key, 'row', undefined, 'present');
      continue;
    }
    if (Number(row.quantity) !== e.quantity)
      diff('customer_items', e.customer_id, key, 'quantity', e.quantity, row.quantity);
    if (!same(row.amount, e.amount))
      diff('customer_items', e.customer_id, key, 'amount', e.amount.toFixed(4), row.amount);
    if (Number(row.orders) !== e.orders.size)
      diff('customer_items', e.customer_id, key, 'orders', e.orders.size, row.orders);
    if (time(row.first_purchased_at) !== e.first)
      diff(
        'customer_items',
        e.customer_id,
        key,
        'first_purchased_at',
        new Date(e.first),
        row.first_purchased_at,
      );
    if (time(row.last_purchased_at) !== e.last)
      diff(
        'customer_items',
        e.customer_id,
        key,
        'last_purchased_at',
        new Date(e.last),
        row.last_purchased_at,
      );
    if (!e.lastNames.has(row.name))
      diff('customer_items', e.customer_id, key, 'name', [...e.lastNames].join(' or '), row.name);
  }
  for (const [key, e] of expected.items) {
    if (!seenItems.has(key))
      diff('customer_items', e.customer_id, key, 'row', 'present', undefined);
  }

  const seenTotals = new Set<string>();
  for (const row of snapshot.customerTotals) {
    const key = `${row.customer_id}|${row.currency}`;
    seenTotals.add(key);
    const e = expected.totals.get(key);
    if (!e) diff('customer_totals', row.customer_id, key, 'row', undefined, row.amount);
    else if (!same(row.amount, e.amount))
      diff('customer_totals', row.customer_id, key, 'amount', e.amount.toFixed(4), row.amount);
  }
  for (const [key, e] of expected.totals) {
    if (!seenTotals.has(key))
      diff('customer_totals', e.customer_id, key, 'row', e.amount.toFixed(4), undefined);
  }

  const seenSummaries = new Set<string>();
  for (const row of snapshot.customerSummaries) {
    const id = row.customer_id;
    seenSummaries.add(id);
    const e = expected.summaries.get(id);
    if (!e) {
      diff('customer_summaries', id, id, 'row', undefined, 'present');
      continue;
    }
    if (Number(row.orders_count) !== e.orders)
      diff('customer_summaries', id, id, 'orders_count', e.orders, row.orders_count);
    if (Number(row.items_count) !== e.items)
      diff('customer_summaries', id, id, 'items_count', e.items, row.items_count);
    if (time(row.first_order_at) !== e.first)
      diff(
        'customer_summaries',
        id,
        id,
        'first_order_at',
        e.first && new Date(e.first),
        row.first_order_at,
      );
    if (time(row.last_order_at) !== e.last)
      diff(
        'customer_summaries',
        id,
        id,
        'last_order_at',
        e.last && new Date(e.last),
        row.last_order_at,
      );
  }
  for (const id of expected.summaries.keys()) {
    if (!seenSummaries.has(id)) diff('customer_summaries', id, id, 'row', 'present', undefined);
  }
  return out;
}

/** The only histories a finished order may have: one row per version, in lifecycle order. */
const WALKS: Record<string, string[]> = {
  completed: ['pending', 'processing', 'completed'],
  cancelled: ['pending', 'cancelled'],
  failed: ['pending', 'processing', 'failed'],
  processing: ['pending', 'processing'],
  pending: ['pending'],
};

/** Orders whose history is not one clean walk ending in their status (a doubled step, a gap). */
export function historyAnomalies(snapshot: Pick<Snapshot, 'orders' | 'history'>): string[] {
  const byOrder = new Map<string, HistoryRow[]>();
  for (const h of snapshot.history) {
    const list = byOrder.get(h.order_id) ?? [];
    list.push(h);
    byOrder.set(h.order_id, list);
  }
  const bad: string[] = [];
  for (const o of snapshot.orders) {
    const walk = WALKS[o.status];
    const rows = (byOrder.get(o.order_id) ?? []).sort((a, b) => a.version - b.version);
    const ok =
      walk !== undefined &&
      Number(o.version) === walk.length &&
      rows.length === walk.length &&
      rows.every((r, i) => Number(r.version) === i + 1 && r.status === walk[i]);
    if (!ok) bad.push(o.order_id);
    byOrder.delete(o.order_id);
  }
  return [...bad, ...byOrder.keys()]; // history rows of an order that does not exist
}

/** Stored orders that differ from what the client sent (customer, currency, lines, money). */
export function contentAnomalies(
  snapshot: Pick<Snapshot, 'orders' | 'items'>,
  sent: ReadonlyMap<string, SentOrder>,
): string[] {
  const itemsOf = new Map<string, StoredItem[]>();
  for (const i of snapshot.items) {
    const list = itemsOf.get(i.order_id) ?? [];
    list.push(i);
    itemsOf.set(i.order_id, list);
  }
  const bad: string[] = [];
  for (const o of snapshot.orders) {
    const s = sent.get(o.order_id);
    if (!s) continue; // a phantom: counted by checkOrders
    const stored = (itemsOf.get(o.order_id) ?? []).sort((a, b) => a.line_no - b.line_no);
    let total = new Exact(0);
    const linesOk =
      stored.length === s.items.length &&
      s.items.every((item, i) => {
        const row = stored[i]!;
        const line = new Exact(item.unit_price).times(item.quantity);
        total = total.plus(line);
        return (
          Number(row.line_no) === i &&
          row.sku === item.sku &&
          row.name === item.name &&
          Number(row.quantity) === item.quantity &&
          same(row.unit_price, item.unit_price) &&
          same(row.line_total, line)
        );
      });
    if (
      !linesOk ||
      o.customer_id !== s.customer_id ||
      o.currency !== s.currency ||
      !same(o.total, total)
    ) {
      bad.push(o.order_id);
    }
  }
  return bad;
}

export interface OrderCheck {
  /** Acknowledged, but not completed (or cancelled): missing, unfinished or failed. */
  lost: string[];
  /** Stored without an acknowledgement (the answer was lost); they count as orders all the same. */
  unacknowledgedStored: string[];
  /** Stored without an acknowledgement and not finished, or failed: accepted but never processed. */
  unprocessed: string[];
  /** Stored but never sent by the client. */
  phantom: string[];
}

const DONE = new Set(['completed', 'cancelled']);

export function checkOrders(
  snapshot: Pick<Snapshot, 'orders'>,
  sent: ReadonlyMap<string, SentOrder>,
  acknowledged: ReadonlySet<string>,
): OrderCheck {
  const status = new Map(snapshot.orders.map((o) => [o.order_id, o.status]));
  const lost = [...acknowledged].filter((id) => !DONE.has(status.get(id) ?? 'missing'));
  const unacknowledgedStored = snapshot.orders
    .filter((o) => sent.has(o.order_id) && !acknowledged.has(o.order_id))
    .map((o) => o.order_id);
  const unprocessed = unacknowledgedStored.filter((id) => !DONE.has(status.get(id)!));
  const phantom = snapshot.orders.filter((o) => !sent.has(o.order_id)).map((o) => o.order_id);
  return { lost, unacknowledgedStored, unprocessed, phantom };
}

export interface Verification extends OrderCheck {
  /** Customers whose read models differ from the recomputation. */
  doubled: string[];
  mismatches: Mismatch[];
  history: string[];
  corrupt: string[];
}

export function verify(
  snapshot: Snapshot,
  sent: ReadonlyMap<string, SentOrder>,
  acknowledged: ReadonlySet<string>,
): Verification {
  const mismatches = compareReadModels(snapshot);
  return {
    ...checkOrders(snapshot, sent, acknowledged),
    doubled: [...new Set(mismatches.map((m) => m.customer_id))].sort(),
    mismatches,
    history: historyAnomalies(snapshot),
    corrupt: contentAnomalies(snapshot, sent),
  };
}
