import type { Db } from './db';
import { withTransaction } from './transaction';
import type { UserRole } from '../domain/principal';

export interface UserRecord {
  username: string;
  password_hash: string;
  role: UserRole;
  customer_id: string | null;
  /** Bumped by every save: tokens carrying an older version are refused. */
  token_version: number;
}

/**
 * How long a looked-up user (or its absence) is trusted. Saves through this process drop it at
 * once; a change made elsewhere (another replica, `users add`) is seen within this long.
 */
export const USER_CACHE_TTL_MS = 5_000;
const USER_CACHE_MAX = 10_000;

export function createUserRepository(db: Db) {
  const cache = new Map<string, { user: UserRecord | undefined; expires: number }>();

  /** The user, from a few seconds' cache: every authenticated request asks. */
  async function find(username: string): Promise<UserRecord | undefined> {
    const cached = cache.get(username);
    if (cached && cached.expires > Date.now()) return cached.user;
    const user = await load(username);
    if (cache.size >= USER_CACHE_MAX) cache.clear();
    cache.set(username, { user, expires: Date.now() + USER_CACHE_TTL_MS });
    return user;
  }

  async function load(username: string): Promise<UserRecord | undefined> {
    const user = await db<UserRecord>('users')
      .select('username', 'password_hash', 'role', 'customer_id', 'token_version')
      .where({ username })
      .first();
    // The column's PAD SPACE collation finds 'c1' for 'c1 ': names must match exactly.
    return user?.username === username ? user : undefined;
  }

  /** Creates or replaces a user. Every api pod ensures the admin at start: on Galera they
   *  conflict, so this runs in a retried transaction. */
  async function save(user: Omit<UserRecord, 'token_version'>): Promise<void> {
    const now = new Date();
    await withTransaction(db, (trx) =>
      trx('users')
        .insert({ ...user, token_version: 0, created_at: now, updated_at: now })
        .onConflict('username')
        .merge({
          password_hash: user.password_hash,
          role: user.role,
          customer_id: user.customer_id,
          updated_at: now,
          token_version: trx.raw('token_version + 1'),
        }),
    );
    cache.delete(user.username);
  }

  return { find, save };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
