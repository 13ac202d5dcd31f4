import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Target } from './targets';

export type EndpointKey = 'order' | 'items' | 'summaries';

/** Ids that exist, one file per endpoint, for bench/wrk/reads.lua's BENCH_DATA. */
export type ReadData = Record<EndpointKey, string>;

/**
 * Every page of GET /customers/summaries, as a client walks them: the cursors it was given,
 * but not one that led to an empty page (with 100 customers a third of all pages would be the
 * empty last one, which is cheaper than a full page and skews the comparison).
 */
export async function walkSummaries(
  service: Target,
  authorization: string,
  limit: number,
): Promise<string[]> {
  const cursors: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${limit}` + (cursor ? `&cursor=${cursor}` : '');
    const res = await fetch(`${service.url}/customers/summaries${query}`, {
      headers: { Authorization: authorization },
    });
    if (res.status !== 200) throw new Error(`GET /customers/summaries answered ${res.status}`);
    const page = (await res.json()) as { data: unknown[]; next_cursor: string | null };
    if (cursor && page.data.length > 0) cursors.push(cursor);
    cursor = page.next_cursor;
  } while (cursor);
  return cursors;
}

export async function writeReadData(
  dir: string,
  label: string,
  db: Knex,
  orderIds: string[],
  cursors: string[],
): Promise<ReadData> {
  const customers: string[] = await db('customer_summaries').pluck('customer_id');
  const files = { order: orderIds, items: customers, summaries: cursors };
  const paths = {} as ReadData;
  for (const [key, lines] of Object.entries(files) as [EndpointKey, string[]][]) {
    paths[key] = path.join(dir, `${label}-${key}.txt`);
    writeFileSync(paths[key], lines.join('\n') + '\n');
  }
  return paths;
}
