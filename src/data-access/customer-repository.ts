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

/** Reads of the customer read models: each is O(page) through a primary-key range. */
export function createCustomerRepository(db: Db) {
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
    return summary;
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

  return { listItems, listSummaries, findSummary };
}

export type CustomerRepository = ReturnType<typeof createCustomerRepository>;
