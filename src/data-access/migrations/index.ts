import type { Knex } from 'knex';
import * as initial from './20261121000000_initial';
import * as userTokenVersion from './20261201000000_user_token_version';
import * as statusHistoryActor from './20261202000000_status_history_actor';
import * as orderEvents from './20261203000000_order_events';
import * as apiKeys from './20261204000000_api_keys';
import * as webhooks from './20261205000000_webhooks';

/**
 * Migrations are listed here rather than discovered on disk, so the same list runs from
 * TypeScript (tests, knexfile) and from the compiled dist/ (the `migrate` role).
 */
const migrations: Record<string, Knex.Migration> = {
  '20261121000000_initial': initial,
  '20261201000000_user_token_version': userTokenVersion,
  '20261202000000_status_history_actor': statusHistoryActor,
  '20261203000000_order_events': orderEvents,
  '20261204000000_api_keys': apiKeys,
  '20261205000000_webhooks': webhooks,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};

export const migrationConfig: Knex.MigratorConfig = {
  migrationSource,
  tableName: 'knex_migrations',
};
