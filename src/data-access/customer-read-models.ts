import type { Knex } from 'knex';
import { Money } from '../domain/money';
import type { OrderToProcess } from '../domain/order';

/*
 * The customer read models are kept exact by updating them in the transaction that marks an
 * order completed, so reads never GROUP BY over orders. ON DUPLICATE KEY UPDATE assignments run
 * left to right and see earlier ones, so `name` is decided before `last_purchased_at` moves.
 * One statement per table for any number of orders (the worker completes them in batches).
 * VALUES() is deprecated in MySQL 8 but is the form both MySQL 8 and MariaDB accept.
 */
export async function updateCustomerReadModels(
  trx: Knex.Transaction,
  orders: OrderToProcess[],
): Promise<void> {
  if (orders.length === 0) return;
  // One row per key, however many orders of the batch share it. Rows are locked in one order
  // (items by customer and sku, then totals, then summaries) in every completion, so two
  // completions for one customer wait for each other instead of deadlocking.
  const items = new Map<string, ItemRow>();
  const totals = new Map<string, { customer_id: string; currency: string; amount: Money }>();
  const summaries = new Map<string, SummaryRow>();
  for (const order of orders) {
    const at = order.created_at;
    const seen = new Set<string>();
    for (const item of order.items) {
      const key = `${order.customer_id}\0${item.sku}\0${order.currency}`;
      const row = items.get(key);
      if (!row) {
        items.set(key, {
          customer_id: order.customer_id,
          sku: item.sku,
          currency: order.currency,
          name: item.name,
          quantity: item.quantity,
          amount: new Money(item.line_total),
          orders: 1,
          first_purchased_at: at,
          last_purchased_at: at,
        });
        seen.add(key);
        continue;
      }
      row.quantity += item.quantity;
      row.amount = row.amount.plus(item.line_total);
      // A sku twice in one order is one order and keeps its first line's name.
      if (seen.has(key)) continue;
      seen.add(key);
      row.orders += 1;
      if (at < row.first_purchased_at) row.first_purchased_at = at;
      // The name of the latest purchase wins, as the upsert below decides between batches.
      if (at >= row.last_purchased_at) [row.last_purchased_at, row.name] = [at, item.name];
    }
    const totalKey = `${order.customer_id}\0${order.currency}`;
    const total = totals.get(totalKey);
    if (total) total.amount = total.amount.plus(order.total);
    else totals.set(totalKey, { ...pick(order), amount: new Money(order.total) });
    const count = order.items.reduce((n, i) => n + i.quantity, 0);
    const summary = summaries.get(order.customer_id);
    if (!summary) {
      summaries.set(order.customer_id, {
        customer_id: order.customer_id,
        orders_count: 1,
        items_count: count,
        first_order_at: at,
        last_order_at: at,
      });
    } else {
      summary.orders_count += 1;
      summary.items_count += count;
      if (at < summary.first_order_at) summary.first_order_at = at;
      if (at > summary.last_order_at) summary.last_order_at = at;
    }
  }

  await trx('customer_items')
    .insert(sorted(items).map((r) => ({ ...r, amount: r.amount.toFixed() })))
    .onConflict(['customer_id', 'sku', 'currency'])
    .merge({
      name: trx.raw('IF(VALUES(last_purchased_at) >= last_purchased_at, VALUES(name), name)'),
      quantity: trx.raw('quantity + VALUES(quantity)'),
      amount: trx.raw('amount + VALUES(amount)'),
      orders: trx.raw('orders + VALUES(orders)'),
      first_purchased_at: trx.raw('LEAST(first_purchased_at, VALUES(first_purchased_at))'),
      last_purchased_at: trx.raw('GREATEST(last_purchased_at, VALUES(last_purchased_at))'),
    });

  await trx('customer_totals')
    .insert(sorted(totals).map((r) => ({ ...r, amount: r.amount.toFixed() })))
    .onConflict(['customer_id', 'currency'])
    .merge({ amount: trx.raw('amount + VALUES(amount)') });

  await trx('customer_summaries')
    .insert(sorted(summaries))
    .onConflict('customer_id')
    .merge({
      orders_count: trx.raw('orders_count + VALUES(orders_count)'),
      items_count: trx.raw('items_count + VALUES(items_count)'),
      first_order_at: trx.raw(
        'LEAST(COALESCE(first_order_at, VALUES(first_order_at)), VALUES(first_order_at))',
      ),
      last_order_at: trx.raw(
        'GREATEST(COALESCE(last_order_at, VALUES(last_order_at)), VALUES(last_order_at))',
      ),
    });
}

interface ItemRow {
  customer_id: string;
  sku: string;
  currency: string;
  name: string;
  quantity: number;
  amount: Money;
  orders: number;
  first_purchased_at: Date;
  last_purchased_at: Date;
}

interface SummaryRow {
  customer_id: string;
  orders_count: number;
  items_count: number;
  first_order_at: Date;
  last_order_at: Date;
}

function pick(order: OrderToProcess) {
  return { customer_id: order.customer_id, currency: order.currency };
}

/** Values in key order: the order rows are locked in. */
function sorted<T>(rows: Map<string, T>): T[] {
  return [...rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
