/**
 * `npm run bench:seed -- --database NAME --orders N [--customers C] [--seed S]`
 *
 * Adds N orders (default customers: N/100) to database NAME on BENCH_MYSQL_URL (default
 * mysql://root@127.0.0.1:3306), creating and migrating it first when needed: orders in every
 * status, their items and history, and the customer read models the worker would have built
 * (bench/seed-orders.ts). Run it again with another seed to grow the same database.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDb, ensureDatabase } from '../src/data-access/db';
import { migrationConfig } from '../src/data-access/migrations';
import { createOrderGenerator } from './order-generator';
import { seedOrders } from './seed-orders';

const SERVER = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      orders: { type: 'string' },
      customers: { type: 'string' },
      seed: { type: 'string', default: randomBytes(4).toString('hex') },
    },
  });
  const orders = Number(values.orders);
  const customers = Number(values.customers ?? Math.max(1, Math.round(orders / 100)));
  if (!values.database || !(orders > 0) || !(customers > 0)) {
    throw new Error('usage: bench:seed -- --database NAME --orders N [--customers C] [--seed S]');
  }
  const url = `${SERVER}/${values.database}`;
  await ensureDatabase(url);
  const db = createDb(url, { min: 0, max: 2 }, { queryDeadlineMs: 0 });
  try {
    await db.migrate.latest(migrationConfig);
    const gen = createOrderGenerator({ seed: values.seed, orders, customers, now: new Date() });
    const result = await seedOrders(db, gen, { log: (line) => console.error(`seed: ${line}`) });
    console.log(
      `seeded ${result.orders} orders of ${result.customers} customers into ` +
        `${values.database} in ${result.seconds.toFixed(1)} s (seed ${values.seed})`,
    );
  } finally {
    await db.destroy();
  }
}

main().catch((err: Error) => {
  console.error(`seed: ${err.stack ?? err.message}`);
  process.exit(1);
});
