import type { Db } from './db';

export interface StoredResponse {
  fingerprint: string;
  status: number;
  body: unknown;
}

/** Idempotency records are written by the order repository, in the orders' own transaction. */
export function createIdempotencyRepository(db: Db) {
  async function find(keyHash: string): Promise<StoredResponse | undefined> {
    const row = await db('idempotency_keys')
      .where('key_hash', keyHash)
      .andWhere('expires_at', '>', new Date())
      .first();
    if (!row) return undefined;
    return {
      fingerprint: row.fingerprint,
      status: row.response_status,
      body: JSON.parse(row.response_body),
    };
  }

  async function purgeExpired(limit: number): Promise<number> {
    const hashes: string[] = await db('idempotency_keys')
      .where('expires_at', '<', new Date())
      .limit(limit)
      .pluck('key_hash');
    if (hashes.length === 0) return 0;
    return db('idempotency_keys').whereIn('key_hash', hashes).delete();
  }

  return { find, purgeExpired };
}

export type IdempotencyRepository = ReturnType<typeof createIdempotencyRepository>;
