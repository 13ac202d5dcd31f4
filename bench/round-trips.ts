import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';

/** Server-wide counters: statements MySQL received, commands Redis processed. */
export interface Counters {
  statements: number;
  redisCommands: number;
}

/**
 * Read before and after a run of one target (the others are idle then), their difference per
 * accepted order is what that target's api and worker sent for each order. Anything else using
 * the same servers at the time is counted too, as is the bench's own polling (one query per
 * 250 ms).
 */
export async function readCounters(pool: Pool, redis: Redis): Promise<Counters> {
  const [rows] = await pool.query("SHOW GLOBAL STATUS LIKE 'Questions'");
  const stats = await redis.info('stats');
  return {
    statements: Number((rows as { Value: string }[])[0]!.Value),
    redisCommands: Number(/^total_commands_processed:(\d+)/m.exec(stats)?.[1] ?? NaN),
  };
}

export function perOrder(before: Counters, after: Counters, orders: number): Counters {
  return {
    statements: (after.statements - before.statements) / orders,
    redisCommands: (after.redisCommands - before.redisCommands) / orders,
  };
}
