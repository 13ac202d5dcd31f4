import type { Db } from './db';
import { withTransaction } from './transaction';
import type { RetryReason } from './mysql-errors';
import type { UserRole } from '../domain/principal';
import type { ApiKeyRevocations } from './api-key-revocations';

export interface ApiKeyRecord {
  id: string;
  key_hash: string;
  last4: string;
  name: string | null;
  role: UserRole;
  customer_id: string | null;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/**
 * How long a looked-up key (or its absence) is trusted: up to the long TTL while the
 * revocation feed confirms it missed nothing (a revocation drops the copy at once), otherwise
 * the short one, so a revoked key is refused on every pod within a second even when Redis is
 * lost, stalled or a message went astray.
 */
export const API_KEY_CACHE_TTL_MS = 10_000;
export const API_KEY_UNCONFIRMED_TTL_MS = 900;
const CACHE_MAX = 10_000;
/** last_used_at is written at most this often per key (per pod, and skipped when another pod
 *  wrote it within the same time). */
export const LAST_USED_RESOLUTION_MS = 60_000;

const COLUMNS = [
  'id',
  'key_hash',
  'last4',
  'name',
  'role',
  'customer_id',
  'created_by',
  'created_at',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

interface Cached {
  key: ApiKeyRecord | undefined;
  /** When the lookup began: the row is at least this fresh. */
  loadedAt: number;
  /** A revocation was heard while it ran. */
  straddled: boolean;
}

export function createApiKeyRepository(
  db: Db,
  revocations: ApiKeyRevocations,
  opts: { onTouchFailed?: (err: Error) => void; onRetry?: (reason: RetryReason) => void } = {},
) {
  const cache = new Map<string, Cached>();
  const lastWritten = new Map<string, number>();
  // Bumped by every revocation heard: a lookup that straddles one gets the short TTL only.
  let epoch = 0;
  const loading = new Map<string, Promise<ApiKeyRecord | undefined>>();
  function forget(id: string): void {
    epoch++;
    cache.delete(id);
    // Requests from now on read anew rather than join a read begun before the revocation.
    loading.delete(id);
  }
  revocations.onRevoked(forget);

  function fresh(entry: Cached, now: number): boolean {
    const age = now - entry.loadedAt;
    if (age < API_KEY_UNCONFIRMED_TTL_MS) return true;
    return (
      !entry.straddled && age < API_KEY_CACHE_TTL_MS && revocations.covers(entry.loadedAt, now)
    );
  }

  /**
   * The key by id, from a cache: every request authenticated by a key asks. Concurrent misses
   * share one read, so a busy key costs one query per expiry, not one per request waiting.
   */
  async function find(id: string): Promise<ApiKeyRecord | undefined> {
    const cached = cache.get(id);
    if (cached && fresh(cached, Date.now())) return cached.key;
    let pending = loading.get(id);
    if (!pending) {
      pending = load(id).finally(() => {
        if (loading.get(id) === pending) loading.delete(id);
      });
      loading.set(id, pending);
    }
    return pending;
  }

  async function load(id: string): Promise<ApiKeyRecord | undefined> {
    const loadedAt = Date.now();
    const started = epoch;
    const key = await db<ApiKeyRecord>('api_keys')
      .select(...COLUMNS)
      .where({ id })
      .first();
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(id, { key, loadedAt, straddled: started !== epoch });
    return key;
  }

  async function insert(key: Omit<ApiKeyRecord, 'last_used_at' | 'revoked_at'>): Promise<void> {
    await db('api_keys').insert(key);
    cache.delete(key.id);
  }

  /** Newest first, unrevoked, after the (created_at, id) of the previous page's last key. */
  async function list(page: { limit: number; after?: { createdAt: Date; id: string } }) {
    const query = db<ApiKeyRecord>('api_keys')
      .select(...COLUMNS)
      .whereNull('revoked_at')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(page.limit);
    const { after } = page;
    if (after) {
      void query.where((q) =>
        q
          .where('created_at', '<', after.createdAt)
          .orWhere((same) => same.where('created_at', after.createdAt).where('id', '<', after.id)),
      );
    }
    return query;
  }

  /** Whether a key that was not yet revoked is now; the feed then tells every pod. */
  async function revoke(id: string, at: Date): Promise<boolean> {
    // Retried whole: on Galera another pod's last_used_at write to the row aborts it at COMMIT.
    const changed = await withTransaction(
      db,
      (trx) => trx('api_keys').where({ id }).whereNull('revoked_at').update({ revoked_at: at }),
      { onRetry: opts.onRetry },
    );
    forget(id);
    if (changed > 0) await revocations.publish(id);
    return changed > 0;
  }

  /**
   * Records a use without writing MySQL on every request: at most once per resolution per key
   * and pod, and the row is left alone when another pod recorded one as recent. Best effort:
   * a failure (a Galera conflict between two pods, MySQL down) loses one timestamp.
   */
  function touch(id: string, at: Date): void {
    const written = lastWritten.get(id);
    if (written !== undefined && at.getTime() - written < LAST_USED_RESOLUTION_MS) return;
    if (lastWritten.size >= CACHE_MAX) lastWritten.clear();
    lastWritten.set(id, at.getTime());
    const recent = new Date(at.getTime() - LAST_USED_RESOLUTION_MS);
    db('api_keys')
      .where({ id })
      .where((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', recent))
      .update({ last_used_at: at })
      .catch((err: Error) => opts.onTouchFailed?.(err));
  }

  return { find, insert, list, revoke, touch };
}

export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>;
