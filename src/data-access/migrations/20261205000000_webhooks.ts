import type { Knex } from 'knex';

/*
 * Webhook endpoints, one delivery per (event, endpoint) and every attempt of it. Galera strict
 * mode: InnoDB and a primary key on every table. A delivery's id is derived from the event id
 * and the endpoint id, so a re-published event finds its delivery row already there.
 */
function defaults(table: Knex.CreateTableBuilder): void {
  table.engine('InnoDB');
  table.charset('utf8mb4');
  table.collate('utf8mb4_bin');
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (t) => {
    defaults(t);
    t.string('endpoint_id', 64).primary();
    t.string('url', 2048).notNullable();
    t.text('events').notNullable();
    t.string('customer_id', 64).nullable();
    t.string('secret', 128).notNullable();
    t.string('previous_secret', 128).nullable();
    t.datetime('previous_secret_expires_at', { precision: 3 }).nullable();
    t.string('status', 16).notNullable();
    t.datetime('failing_since', { precision: 3 }).nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.index(['created_at', 'endpoint_id'], 'webhook_endpoints_created');
  });

  await knex.schema.createTable('webhook_deliveries', (t) => {
    defaults(t);
    t.string('delivery_id', 64).primary();
    t.string('endpoint_id', 64).notNullable();
    t.string('event_id', 255).notNullable();
    t.string('event_type', 32).notNullable();
    t.specificType('payload', 'MEDIUMTEXT').notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').unsigned().notNullable().defaultTo(0);
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.index(['endpoint_id', 'created_at', 'delivery_id'], 'webhook_deliveries_endpoint_created');
  });

  await knex.schema.createTable('webhook_attempts', (t) => {
    defaults(t);
    t.string('delivery_id', 64).notNullable();
    t.integer('attempt').unsigned().notNullable();
    t.smallint('status_code').unsigned().nullable();
    t.integer('latency_ms').unsigned().notNullable();
    t.string('error', 1024).nullable();
    t.string('response_excerpt', 1024).nullable();
    t.datetime('started_at', { precision: 3 }).notNullable();
    t.datetime('finished_at', { precision: 3 }).notNullable();
    t.primary(['delivery_id', 'attempt']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_attempts');
  await knex.schema.dropTableIfExists('webhook_deliveries');
  await knex.schema.dropTableIfExists('webhook_endpoints');
}
