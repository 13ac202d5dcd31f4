import type { Knex } from 'knex';

/**
 * API keys for machine clients. The primary key is the key's random id (Galera strict mode
 * needs one on every table); only SHA-256 of the key is kept. A revoked key keeps its row
 * (`revoked_at`) so who made it, and when it was last used, stay on record.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_keys', (t) => {
    t.engine('InnoDB');
    t.charset('utf8mb4');
    t.collate('utf8mb4_bin');
    t.specificType('id', 'CHAR(16)').primary();
    t.specificType('key_hash', 'CHAR(64)').notNullable();
    t.specificType('last4', 'CHAR(4)').notNullable();
    t.string('name', 100).nullable();
    t.string('role', 16).notNullable();
    t.string('customer_id', 64).nullable();
    t.string('created_by', 255).notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('expires_at', { precision: 3 }).nullable();
    t.datetime('last_used_at', { precision: 3 }).nullable();
    t.datetime('revoked_at', { precision: 3 }).nullable();
    t.index(['revoked_at', 'created_at', 'id'], 'api_keys_listing');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('api_keys');
}
