import type { Harness } from '../../helpers/harness';

/** Every row of the three customer read models, in key order. */
export async function readModelRows(h: Harness) {
  const db = h.services.db;
  return {
    customer_summaries: await db('customer_summaries').orderBy('customer_id'),
    customer_totals: await db('customer_totals').orderBy(['customer_id', 'currency']),
    customer_items: await db('customer_items').orderBy(['customer_id', 'sku', 'currency']),
  };
}

/** What a manager reads: every page of the summaries, and every page of each one's items. */
export async function readAll(h: Harness) {
  const auth = h.basic('manager');
  const pages = async (path: string) => {
    const data: { customer_id?: string }[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string | number> = cursor ? { limit: 20, cursor } : { limit: 20 };
      const res: { status: number; text: string; body: { data: []; next_cursor: string | null } } =
        await h.api.get(path).query(query).set('Authorization', auth);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
      data.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    return data;
  };
  const summaries = await pages('/customers/summaries');
  const items: Record<string, unknown[]> = {};
  for (const s of summaries)
    items[s.customer_id!] = await pages(`/customers/${s.customer_id}/items`);
  return { summaries, items };
}
