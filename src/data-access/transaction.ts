import type { Knex } from 'knex';
import type { Db } from './db';
import { retryReason, RetryReason } from './mysql-errors';

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  onRetry?: (reason: RetryReason, attempt: number) => void;
}

export async function withTransaction<T>(
  db: Db,
  work: (trx: Knex.Transaction) => Promise<T>,
  { attempts = 10, baseDelayMs = 20, onRetry }: RetryOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(work);
    } catch (err) {
      const reason = retryReason(err);
      if (!reason || attempt >= attempts) throw err;
      onRetry?.(reason, attempt);
      // Full jitter keeps conflicting writers from colliding again in lock-step. With several
      // Galera writer nodes on one hot row, 6 attempts were measured to be too few (2-4% failed).
      await sleep(Math.random() * Math.min(MAX_DELAY_MS, baseDelayMs * 2 ** attempt));
    }
  }
}

const MAX_DELAY_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
