/**
 * `npm run bench`: order throughput on this machine against the real MySQL and Redis, as
 * numbers and ratios against a naive baseline (one INSERT per row and one queue.add per order,
 * the shape FIELD-NOTES measured at ~1k orders/s). Uses its own database and Redis prefix and
 * removes them. Environment: BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306),
 * REDIS_URL, BENCH_ORDERS (default 4000).
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import { compose } from '../src/compose';
import { createShutdown } from '../src/lib/shutdown';
import { loadConfig } from '../src/config';
import { createDb, ensureDatabase } from '../src/data-access/db';
import { migrationConfig } from '../src/data-access/migrations';
import { saveUser } from '../src/domain/manage-users';
import { createHttpServer } from '../src/entry-points/http-server';
import { createLogger } from '../src/lib/logger';

const MYSQL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ORDERS = Number(process.env.BENCH_ORDERS ?? 4000);
const AUTH = 'Basic ' + Buffer.from('bench:bench-password').toString('base64');

const order = (n: number, tag: string) => ({
  order_id: `${tag}-${n}`,
  customer_id: `c-${n % 50}`,
  currency: 'USD',
  items: [
    { sku: 'TEA', name: 'Tea', quantity: 2, unit_price: '9.99' },
    { sku: 'CUP', name: 'Cup', quantity: 1, unit_price: '4.50' },
  ],
});

/** Runs `total` calls of `task` with `concurrency` in flight; returns calls per second. */
async function throughput(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main() {
  const dbName = `os_bench_${randomBytes(4).toString('hex')}`;
  const databaseUrl = `${MYSQL}/${dbName}`;
  await ensureDatabase(databaseUrl);
  const config = loadConfig('all', {
    DATABASE_URL: databaseUrl,
    REDIS_URL: REDIS,
    JWT_SECRET: randomBytes(32).toString('hex'),
    RATE_LIMIT_MAX: '1000000',
  });
  const services = compose(config, createLogger('error', new PassThrough()));
  // The default prefix, derived from the bench's own database name.
  const prefix = config.redisPrefix;
  await services.db.migrate.latest(migrationConfig);
  services.readiness.markStarted();
  await saveUser(services.repositories.users, {
    username: 'bench',
    password: 'bench-password',
    role: 'manager',
  });
  const server = createHttpServer(services.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (body: unknown) => {
    const res = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 201)
      throw new Error(`POST /orders answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };

  try {
    // Baseline: one autocommit INSERT per row, one queue.add per order.
    const naiveDb = createDb(databaseUrl, { min: 0, max: 16 });
    const naiveQueue = new Queue('naive', { connection: services.redis, prefix });
    const baseline = await throughput(ORDERS / 4, 16, async (i) => {
      const o = order(i, 'naive');
      const now = new Date();
      await naiveDb('orders').insert({
        order_id: o.order_id,
        customer_id: o.customer_id,
        status: 'pending',
        currency: 'USD',
        total: '24.48',
        version: 1,
        created_at: now,
        updated_at: now,
      });
      for (const [line, item] of o.items.entries()) {
        await naiveDb('order_items').insert({
          order_id: o.order_id,
          line_no: line,
          ...item,
          line_total: '0',
        });
      }
      await naiveDb('order_status_history').insert({
        order_id: o.order_id,
        version: 1,
        status: 'pending',
        at: now,
      });
      await naiveQueue.add('process', { orderId: o.order_id });
    });
    await naiveQueue.obliterate({ force: true });
    await naiveQueue.close();
    await naiveDb.destroy();

    for (const table of ['order_items', 'order_status_history', 'orders']) {
      await services.db(table).where('order_id', 'like', 'naive-%').delete();
    }

    const ping = await throughput(ORDERS, 32, async () => {
      await (await fetch(`${base}/ping`)).arrayBuffer();
    });
    const single = await throughput(ORDERS / 2, 32, (i) => post(order(i, 'single')));
    const batches = ORDERS / 100;
    const batched =
      100 *
      (await throughput(batches, 4, (b) =>
        post(Array.from({ length: 100 }, (_, i) => order(b * 100 + i, 'batch'))),
      ));

    const workers = services.worker!.createWorkers();
    const pending = ORDERS / 2 + ORDERS;
    const start = Date.now();
    void workers.orderWorker.run();
    for (;;) {
      const [row] = await services
        .db('orders')
        .whereIn('status', ['pending', 'processing'])
        .count({ n: '*' });
      if (Number(row?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const processed = pending / ((Date.now() - start) / 1000);
    await workers.orderWorker.close();

    const rows = [
      ['naive baseline (row inserts, add per order)', baseline, 1],
      ['(HTTP floor: GET /ping, requests/s, 32 in flight)', ping, ping / baseline],
      ['POST /orders, one order per request, 32 in flight', single, single / baseline],
      ['POST /orders, 100 orders per request, 4 in flight', batched, batched / baseline],
      ['worker: pending → completed (concurrency 16)', processed, processed / baseline],
    ] as const;
    console.log(`orders/s on ${ORDERS} orders (higher is better; ratio vs the naive baseline)`);
    for (const [name, rate, ratio] of rows) {
      console.log(`${name.padEnd(52)} ${rate.toFixed(0).padStart(8)} /s   x${ratio.toFixed(2)}`);
    }
  } finally {
    server.closeAllConnections();
    server.close();
    await services.orderQueue.queue.obliterate({ force: true }).catch(() => undefined);
    await services.db.raw('DROP DATABASE ??', [dbName]);
    await createShutdown(services.logger, 10_000, services.shutdownSteps()).run();
  }
}

// Open BullMQ/Redis handles may linger; the numbers are printed, so exit explicitly.
main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
