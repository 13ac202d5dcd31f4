import type { Db } from './db';
import { formatMoney, minorUnits } from '../domain/money';

export interface CustomerItem {
  sku: string;
  name: string;
  currency: string;
  quantity: number;
  amount: string;
  orders: number;
  first_purchased_at: Date;
  last_purchased_at: Date;
}

export interface CustomerSummary {
  customer_id: string;
  orders_count: number;
  items_count: number;
  totals: { currency: string; amount: string }[];
  first_order_at: Date | null;
  last_order_at: Date | null;
}

type SummaryRow = Omit<CustomerSummary, 'totals'>;

const money = (amount: string, currency: string) => formatMoney(amount, minorUnits(currency) ?? 0);

/** Customers this process has seen listed; bounded, as a cache. */
const KNOWN_MAX = 100_000;

/** Reads of the customer read models: each is O(page) through a primary-key range. */
export function createCustomerRepository(db: Db) {
  const known = new Set<string>();

  /**
   * Gives each customer a (zero) summary row so it is listed before its first completion. Run
   * after the orders' own transaction, and writing only rows that are missing: a customer's
   * existing row is never touched by placing an order (see insertOrders).
   */
  async function ensureListed(customerIds: string[]): Promise<void> {
    const unknown = [...new Set(customerIds)].filter((id) => !known.has(id));
    if (unknown.length === 0) return;
    const listed: string[] = await db('customer_summaries')
      .whereIn('customer_id', unknown)
      .pluck('customer_id');
    const missing = unknown.filter((id) => !listed.includes(id));
    if (missing.length > 0) {
      await db('customer_summaries')
        .insert(missing.map((customer_id) => ({ customer_id })))
        .onConflict('customer_id')
        .ignore();
    }
    if (known.size + unknown.length > KNOWN_MAX) known.clear();
    for (const id of unknown) known.add(id);
  }

  async function listItems(
    customerId: string,
    limit: number,
    after?: { sku: string; currency: string },
  ): Promise<CustomerItem[]> {
    const q = db('customer_items')
      .where('customer_id', customerId)
      .orderBy(['sku', 'currency'])
      .limit(limit);
    if (after) {
      q.andWhere((w) =>
        w
          .where('sku', '>', after.sku)
          .orWhere((x) => x.where('sku', after.sku).andWhere('currency', '>', after.currency)),
      );
    }
    const rows = await q;
    return rows.map((r) => ({
      sku: r.sku,
      name: r.name,
      currency: r.currency,
      quantity: Number(r.quantity),
      amount: money(r.amount, r.currency),
      orders: r.orders,
      first_purchased_at: r.first_purchased_at,
      last_purchased_at: r.last_purchased_at,
    }));
  }

  async function listSummaries(
    limit: number,
    afterCustomerId?: string,
  ): Promise<CustomerSummary[]> {
    const q = db('customer_summaries').orderBy('customer_id').limit(limit);
    if (afterCustomerId !== undefined) q.where('customer_id', '>', afterCustomerId);
    return withTotals(await q);
  }

  async function findSummary(customerId: string): Promise<CustomerSummary | undefined> {
    const [summary] = await withTotals(
      await db('customer_summaries').where({ customer_id: customerId }),
    );
    if (summary || !(await hasOrders(customerId))) return summary;
    // Orders placed while the row could not be written (MySQL failed right after COMMIT).
    return {
      customer_id: customerId,
      orders_count: 0,
      items_count: 0,
      totals: [],
      first_order_at: null,
      last_order_at: null,
    };
  }

  async function hasOrders(customerId: string): Promise<boolean> {
    return (await db('orders').where('customer_id', customerId).first('order_id')) !== undefined;
  }

  async function withTotals(rows: SummaryRow[]): Promise<CustomerSummary[]> {
    if (rows.length === 0) return [];
    const totals = await db('customer_totals')
      .whereIn(
        'customer_id',
        rows.map((r) => r.customer_id),
      )
      .orderBy(['customer_id', 'currency']);
    return rows.map((r) => ({
      customer_id: r.customer_id,
      orders_count: r.orders_count,
      items_count: Number(r.items_count),
      totals: totals
        .filter((t) => t.customer_id === r.customer_id)
        .map((t) => ({ currency: t.currency, amount: money(t.amount, t.currency) })),
      first_order_at: r.first_order_at,
      last_order_at: r.last_order_at,
    }));
  }

  return { ensureListed, listItems, listSummaries, findSummary };
}

export type CustomerRepository = ReturnType<typeof createCustomerRepository>;
