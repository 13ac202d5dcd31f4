import type { Knex } from 'knex';
import type { Order } from '../domain/order';
import type { Db } from './db';

/** What placing orders under an Idempotency-Key stores, so a retry gets the same orders back. */
export interface IdempotencyRecord {
  keyHash: string;
  fingerprint: string;
  expiresAt: Date;
  /** Whether the request was a batch: a batch's orders are stored as `{data}`. */
  batch: boolean;
}

export interface StoredOrders {
  fingerprint: string;
  orders: Order[];
}

/**
 * Written by the order repository, in the orders' own transaction. The body is stored as JSON
 * in the shape POST /orders answers (one order, or `{data}` for a batch) and, as only
 * successful placements are stored, with status 201: the format of records stored before.
 */
export async function insertIdempotencyRecord(
  trx: Knex.Transaction,
  rec: IdempotencyRecord,
  orders: Order[],
): Promise<void> {
  // A record that expired but was not purged yet must not block the key's reuse.
  await trx('idempotency_keys')
    .where('key_hash', rec.keyHash)
    .andWhere('expires_at', '<', new Date())
    .delete();
  await trx('idempotency_keys').insert({
    key_hash: rec.keyHash,
    fingerprint: rec.fingerprint,
    response_status: 201,
    response_body: JSON.stringify(rec.batch ? { data: orders } : orders[0]),
    created_at: new Date(),
    expires_at: rec.expiresAt,
  });
}

export function createIdempotencyRepository(db: Db) {
  async function find(keyHash: string): Promise<StoredOrders | undefined> {
    const row = await db('idempotency_keys')
      .where('key_hash', keyHash)
      .andWhere('expires_at', '>', new Date())
      .first();
    if (!row) return undefined;
    const body = JSON.parse(row.response_body);
    const orders: StoredOrder[] = Array.isArray(body.data) ? body.data : [body];
    return { fingerprint: row.fingerprint, orders: orders.map(revive) };
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

type StoredOrder = Omit<Order, 'created_at' | 'updated_at' | 'completed_at' | 'status_history'> & {
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  status_history: { status: Order['status']; at: string }[];
};

/**
 * Dates back from their ISO strings; keys stay in stored order, so the orders serialize to the
 * stored bytes again.
 */
function revive(o: StoredOrder): Order {
  return {
    ...o,
    created_at: new Date(o.created_at),
    updated_at: new Date(o.updated_at),
    completed_at: o.completed_at === null ? null : new Date(o.completed_at),
    status_history: o.status_history.map((h) => ({ ...h, at: new Date(h.at) })),
  };
}
