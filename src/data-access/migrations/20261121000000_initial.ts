import type { Knex } from 'knex';

/*
 * Percona XtraDB Cluster strict mode: InnoDB only, a primary key on every table, no reliance
 * on sequential auto-increment. Identifiers use utf8mb4_bin so 'A' and 'a' are different ids.
 * Money is DECIMAL with 4 places (the largest ISO 4217 minor unit).
 */
function defaults(table: Knex.CreateTableBuilder): void {
  table.engine('InnoDB');
  table.charset('utf8mb4');
  table.collate('utf8mb4_bin');
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (t) => {
    defaults(t);
    t.string('order_id', 64).primary();
    t.string('customer_id', 64).notNullable();
    t.string('status', 16).notNullable();
    t.string('currency', 3).notNullable();
    t.decimal('total', 30, 4).notNullable();
    t.text('metadata').nullable();
    t.integer('version').unsigned().notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.datetime('completed_at', { precision: 3 }).nullable();
    t.index(['customer_id', 'created_at', 'order_id'], 'orders_customer_created');
    t.index(['status', 'created_at', 'order_id'], 'orders_status_created');
    t.index(['created_at', 'order_id'], 'orders_created');
  });

  await knex.schema.createTable('order_items', (t) => {
    defaults(t);
    t.string('order_id', 64).notNullable();
    t.smallint('line_no').unsigned().notNullable();
    t.string('sku', 64).notNullable();
    t.string('name', 200).notNullable();
    t.integer('quantity').unsigned().notNullable();
    t.decimal('unit_price', 19, 4).notNullable();
    t.decimal('line_total', 30, 4).notNullable();
    t.primary(['order_id', 'line_no']);
  });

  await knex.schema.createTable('order_status_history', (t) => {
    defaults(t);
    t.string('order_id', 64).notNullable();
    t.integer('version').unsigned().notNullable();
    t.string('status', 16).notNullable();
    t.datetime('at', { precision: 3 }).notNullable();
    t.primary(['order_id', 'version']);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    defaults(t);
    t.specificType('key_hash', 'CHAR(64)').primary();
    t.specificType('fingerprint', 'CHAR(64)').notNullable();
    t.smallint('response_status').unsigned().notNullable();
    t.specificType('response_body', 'MEDIUMTEXT').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('expires_at', { precision: 3 }).notNullable().index('idempotency_keys_expires');
  });

  await knex.schema.createTable('users', (t) => {
    defaults(t);
    t.string('username', 64).primary();
    t.string('password_hash', 100).notNullable();
    t.string('role', 16).notNullable();
    t.string('customer_id', 64).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
  });

  // Read models, updated in the transaction that completes an order.
  await knex.schema.createTable('customer_summaries', (t) => {
    defaults(t);
    t.string('customer_id', 64).primary();
    t.integer('orders_count').unsigned().notNullable().defaultTo(0);
    t.bigInteger('items_count').unsigned().notNullable().defaultTo(0);
    t.datetime('first_order_at', { precision: 3 }).nullable();
    t.datetime('last_order_at', { precision: 3 }).nullable();
  });

  await knex.schema.createTable('customer_totals', (t) => {
    defaults(t);
    t.string('customer_id', 64).notNullable();
    t.string('currency', 3).notNullable();
    t.decimal('amount', 38, 4).notNullable();
    t.primary(['customer_id', 'currency']);
  });

  await knex.schema.createTable('customer_items', (t) => {
    defaults(t);
    t.string('customer_id', 64).notNullable();
    t.string('sku', 64).notNullable();
    t.string('currency', 3).notNullable();
    t.string('name', 200).notNullable();
    t.bigInteger('quantity').unsigned().notNullable();
    t.decimal('amount', 38, 4).notNullable();
    t.integer('orders').unsigned().notNullable();
    t.datetime('first_purchased_at', { precision: 3 }).notNullable();
    t.datetime('last_purchased_at', { precision: 3 }).notNullable();
    t.primary(['customer_id', 'sku', 'currency']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'customer_items',
    'customer_totals',
    'customer_summaries',
    'users',
    'idempotency_keys',
    'order_status_history',
    'order_items',
    'orders',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
