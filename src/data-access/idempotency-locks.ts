import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Deletes the lock only if it still holds our token, so a late release never frees another's. */
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

export type LockResult = { state: 'acquired'; release: () => Promise<void> } | { state: 'held' };

/**
 * "Still in flight" markers for Idempotency-Key requests. They only make a concurrent retry
 * fail fast with 409; correctness rests on the MySQL primary key of idempotency_keys, so when
 * Redis is down requests proceed without a lock.
 */
export function createIdempotencyLocks(redis: Redis, prefix: string, ttlMs = 60_000) {
  async function acquire(keyHash: string): Promise<LockResult> {
    const key = `${prefix}:idempotency:${keyHash}`;
    const token = randomUUID();
    let reply: string | null;
    try {
      reply = await redis.set(key, token, 'PX', ttlMs, 'NX');
    } catch {
      return { state: 'acquired', release: async () => {} };
    }
    if (reply !== 'OK') return { state: 'held' };
    return {
      state: 'acquired',
      release: async () => {
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
      },
    };
  }
  return { acquire };
}

export type IdempotencyLocks = ReturnType<typeof createIdempotencyLocks>;
