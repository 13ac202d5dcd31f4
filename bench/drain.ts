import type { Redis } from 'ioredis';
import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { ORDERS_QUEUE } from '../src/data-access/order-queue';

export interface Drain {
  /** Orders of the run found in the database: accepted, even if wrk never saw the answer. */
  accepted: number;
  completed: number;
  /** From the end of the load until every accepted order was completed (or the timeout). */
  drainS: number;
  drained: boolean;
  /** Orders still pending at the timeout, cancelled by abandonBacklog. */
  abandoned?: number;
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

/**
 * After a drain timeout: cancels the run's orders still pending (the worker then skips their
 * jobs, both in order-service and the peer) and waits until the BullMQ queue is empty, so the
 * next run meets an idle worker rather than this run's backlog. Returns the orders cancelled.
 */
export async function abandonBacklog(
  pool: Pool,
  redis: Redis,
  prefix: string,
  tag: string,
  timeoutMs = 60_000,
): Promise<number> {
  const [result] = await pool.query(
    "UPDATE orders SET status = 'cancelled', version = version + 1, updated_at = NOW(3) " +
      "WHERE order_id LIKE ? AND status = 'pending'",
    [`${tag}-%`],
  );
  const queue = `${prefix}:${ORDERS_QUEUE}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [wait, active, prioritized, delayed] = await Promise.all([
      redis.llen(`${queue}:wait`),
      redis.llen(`${queue}:active`),
      redis.zcard(`${queue}:prioritized`),
      redis.zcard(`${queue}:delayed`),
    ]);
    if (wait + active + prioritized + delayed === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return (result as ResultSetHeader).affectedRows;
}
