import type { Knex } from 'knex';

/**
 * Who asked for a status change (a manager's retry, a cancel): the username, or the `sub` of
 * an external token, which may be longer than our own usernames. NULL for the worker's steps
 * and for rows written before this column. A nullable column at the end is an instant ALTER
 * on MariaDB 10.3+ and MySQL 8.0.12+.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('order_status_history', (t) => {
    t.string('actor', 255).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('order_status_history', (t) => {
    t.dropColumn('actor');
  });
}
