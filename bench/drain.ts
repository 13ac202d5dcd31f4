import type { Pool } from 'mysql2/promise';

export interface Drain {
  /** Orders of the run found in the database: accepted, even if wrk never saw the answer. */
  accepted: number;
  completed: number;
  /** From the end of the load until every accepted order was completed (or the timeout). */
  drainS: number;
  drained: boolean;
}

/** Polls the target's database until every order whose id starts with `tag-` is completed. */
export async function waitDrained(pool: Pool, tag: string, timeoutMs: number): Promise<Drain> {
  const start = Date.now();
  for (;;) {
    const [rows] = await pool.query(
      "SELECT COUNT(*) AS accepted, COALESCE(SUM(status = 'completed'), 0) AS completed " +
        'FROM orders WHERE order_id LIKE ?',
      [`${tag}-%`],
    );
    const row = (rows as { accepted: number | string; completed: number | string }[])[0]!;
    const accepted = Number(row.accepted);
    const completed = Number(row.completed);
    const drainS = (Date.now() - start) / 1000;
    if (completed >= accepted) return { accepted, completed, drainS, drained: true };
    if (Date.now() - start > timeoutMs) return { accepted, completed, drainS, drained: false };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
