import { createDb, Db } from '../../src/data-access/db';
import { withTransaction } from '../../src/data-access/transaction';
import { createTestDatabase, dropDatabase } from '../helpers/harness';

let url: string;
let db: Db;
beforeAll(async () => {
  url = await createTestDatabase();
  db = createDb(url);
  await db.schema.createTable('accounts', (t) => {
    t.string('id').primary();
    t.integer('balance').notNullable();
  });
  await db('accounts').insert([
    { id: 'a', balance: 0 },
    { id: 'b', balance: 0 },
  ]);
});
afterAll(async () => {
  await db.destroy();
  await dropDatabase(url);
});

describe('withTransaction', () => {
  it('runs a transaction that lost a deadlock (1213) again, whole, until both succeed', async () => {
    const retries: string[] = [];
    let bothLocked: () => void;
    const firstLocks = new Promise<void>((resolve) => (bothLocked = resolve));
    let locked = 0;
    // Two transactions lock a and b in opposite orders: InnoDB kills one with 1213.
    const transfer = (first: string, second: string) =>
      withTransaction(
        db,
        async (trx) => {
          await trx('accounts').where('id', first).increment('balance', 1);
          if (++locked === 2) bothLocked();
          await firstLocks;
          await trx('accounts').where('id', second).increment('balance', 1);
        },
        { onRetry: (reason) => retries.push(reason) },
      );
    await Promise.all([transfer('a', 'b'), transfer('b', 'a')]);
    expect(retries).toContain('deadlock');
    const rows = await db('accounts').orderBy('id');
    // Each transfer applied exactly once: the aborted attempt left nothing behind.
    expect(rows.map((r) => r.balance)).toEqual([2, 2]);
  });

  it('does not retry other errors', async () => {
    let attempts = 0;
    await expect(
      withTransaction(db, async (trx) => {
        attempts++;
        await trx('accounts').insert({ id: 'a', balance: 1 });
      }),
    ).rejects.toMatchObject({ errno: 1062 });
    expect(attempts).toBe(1);
  });
});
