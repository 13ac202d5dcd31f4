import type { Knex } from 'knex';
import { connectionFromUrl } from './src/data-access/db';
import { migrationConfig } from './src/data-access/migrations';

/** For the knex CLI (`npx knex migrate:status`); the service migrates via `main.js migrate`. */
const config: Knex.Config = {
  client: 'mysql2',
  connection: connectionFromUrl(process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/orders'),
  migrations: migrationConfig,
};

export default config;
