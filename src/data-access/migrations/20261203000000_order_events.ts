import type { Knex } from 'knex';

/*
 * The outbox: one row per status change, written in the transaction of the change. event_id is
 * a ULID made by the writer (unique at once, no auto-increment: on Galera those interleave
 * across nodes and are not in commit order). `sequence` is NULL until the single active relay
 * numbers the event, in the order it publishes; streams resume by it. NULLs do not clash in a
 * unique index, and its entries for NULL are kept in primary-key (ULID, so time) order: the
 * relay's "oldest unnumbered first" reads the index in order.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('order_events', (t) => {
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
    t.specificType('event_id', 'CHAR(26)').primary();
    t.bigInteger('sequence').unsigned().nullable().unique('order_events_sequence');
    t.string('type', 32).notNullable();
    t.string('order_id', 64).notNullable();
    t.string('customer_id', 64).notNullable();
    t.string('status', 16).notNullable();
    t.integer('version').unsigned().notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['order_id', 'sequence'], 'order_events_order');
    t.index(['customer_id', 'sequence'], 'order_events_customer');
  });
  // How far the relay has published (every numbered event up to published_sequence).
  await knex.schema.createTable('event_relay', (t) => {
    t.engine('InnoDB');
    t.string('name', 32).primary();
    t.bigInteger('published_sequence').unsigned().notNullable();
  });
  await knex('event_relay').insert({ name: 'order-events', published_sequence: 0 });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('event_relay');
  await knex.schema.dropTableIfExists('order_events');
}
