import type { Knex } from 'knex';
import { Money } from '../domain/money';
import type { Order } from '../domain/order';

/*
 * The customer read models are kept exact by updating them in the transaction that marks an
 * order completed, so reads never GROUP BY over orders. ON DUPLICATE KEY UPDATE assignments run
 * left to right and see earlier ones, so `name` is decided before `last_purchased_at` moves.
 * VALUES() is deprecated in MySQL 8 but is the form both MySQL 8 and MariaDB accept.
 */
export async function updateCustomerReadModels(trx: Knex.Transaction, order: Order): Promise<void> {
  const at = order.created_at;
  const lines = new Map<string, { sku: string; name: string; quantity: number; amount: Money }>();
  // Rows are locked in one order (items by sku, then totals, then the summary) in every
  // completion, so two completions for one customer wait for each other instead of deadlocking.
  const items = [...order.items].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  for (const item of items) {
    const line = lines.get(item.sku);
    if (line) {
      line.quantity += item.quantity;
      line.amount = line.amount.plus(item.line_total);
    } else {
      lines.set(item.sku, { ...item, amount: new Money(item.line_total) });
    }
  }

  await trx('customer_items')
    .insert(
      [...lines.values()].map((l) => ({
        customer_id: order.customer_id,
        sku: l.sku,
        currency: order.currency,
        name: l.name,
        quantity: l.quantity,
        amount: l.amount.toFixed(),
        orders: 1,
        first_purchased_at: at,
        last_purchased_at: at,
      })),
    )
    .onConflict(['customer_id', 'sku', 'currency'])
    .merge({
      name: trx.raw('IF(VALUES(last_purchased_at) >= last_purchased_at, VALUES(name), name)'),
      quantity: trx.raw('quantity + VALUES(quantity)'),
      amount: trx.raw('amount + VALUES(amount)'),
      orders: trx.raw('orders + 1'),
      first_purchased_at: trx.raw('LEAST(first_purchased_at, VALUES(first_purchased_at))'),
      last_purchased_at: trx.raw('GREATEST(last_purchased_at, VALUES(last_purchased_at))'),
    });

  await trx('customer_totals')
    .insert({ customer_id: order.customer_id, currency: order.currency, amount: order.total })
    .onConflict(['customer_id', 'currency'])
    .merge({ amount: trx.raw('amount + VALUES(amount)') });

  const itemsCount = order.items.reduce((n, i) => n + i.quantity, 0);
  await trx('customer_summaries')
    .insert({
      customer_id: order.customer_id,
      orders_count: 1,
      items_count: itemsCount,
      first_order_at: at,
      last_order_at: at,
    })
    .onConflict('customer_id')
    .merge({
      orders_count: trx.raw('orders_count + 1'),
      items_count: trx.raw('items_count + VALUES(items_count)'),
      first_order_at: trx.raw(
        'LEAST(COALESCE(first_order_at, VALUES(first_order_at)), VALUES(first_order_at))',
      ),
      last_order_at: trx.raw(
        'GREATEST(COALESCE(last_order_at, VALUES(last_order_at)), VALUES(last_order_at))',
      ),
    });
}
