import type { Knex } from 'knex';

/** Rows per INSERT statement: multi-row inserts are ~20x cheaper than one row each. */
const CHUNK = 1000;

/**
 * Multi-row INSERTs of at most CHUNK rows. (knex's batchInsert would wrap each call in a
 * savepoint: two more round trips per table on every order.)
 */
export async function insertRows(
  trx: Knex.Transaction,
  table: string,
  rows: object[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await trx(table).insert(rows.slice(i, i + CHUNK));
}
