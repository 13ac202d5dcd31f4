import type { Db } from './db';
import { withTransaction } from './transaction';
import type { UserRole } from '../domain/principal';

export interface UserRecord {
  username: string;
  password_hash: string;
  role: UserRole;
  customer_id: string | null;
}

export function createUserRepository(db: Db) {
  async function find(username: string): Promise<UserRecord | undefined> {
    return db<UserRecord>('users')
      .select('username', 'password_hash', 'role', 'customer_id')
      .where({ username })
      .first();
  }

  /** Creates or replaces a user. Every api pod ensures the admin at start: on Galera they
   *  conflict, so this runs in a retried transaction. */
  async function save(user: UserRecord): Promise<void> {
    const now = new Date();
    await withTransaction(db, (trx) =>
      trx('users')
        .insert({ ...user, created_at: now, updated_at: now })
        .onConflict('username')
        .merge(['password_hash', 'role', 'customer_id', 'updated_at']),
    );
  }

  return { find, save };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
