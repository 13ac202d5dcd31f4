/**
 * The naive peer for `npm run bench`: the order endpoint as a first version would write it.
 * Express + mysql2 + BullMQ, no auth, no validation; per order one autocommit INSERT into
 * `orders`, one per item row, then one `queue.add`; a BullMQ worker in this same process (as
 * order-service's `all` role) runs two UPDATEs per order: pending → processing → completed.
 * It uses order-service's schema (the orchestrator migrates its database first).
 * Environment: PORT, DATABASE_URL, REDIS_URL, REDIS_PREFIX.
 */
import { Queue, Worker } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';

interface Item {
  sku: string;
  name: string;
  quantity: number;
  unit_price: string;
}
interface OrderBody {
  order_id: string;
  customer_id: string;
  currency: string;
  items: Item[];
}

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`naive-peer: ${name} is required`);
  return value;
};
const prefix = env('REDIS_PREFIX');
// The same pool size and worker concurrency as order-service's defaults.
const pool = mysql.createPool({ uri: env('DATABASE_URL'), connectionLimit: 10 });
const connection = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const queue = new Queue('orders', {
  connection,
  prefix,
  defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
});

async function insertOrder(o: OrderBody): Promise<void> {
  const now = new Date();
  const total = o.items.reduce((sum, i) => sum + i.quantity * Number(i.unit_price), 0);
  await pool.execute(
    'INSERT INTO orders (order_id, customer_id, status, currency, total, version, created_at, ' +
      "updated_at) VALUES (?, ?, 'pending', ?, ?, 1, ?, ?)",
    [o.order_id, o.customer_id, o.currency, total.toFixed(2), now, now],
  );
  for (const [line, i] of o.items.entries()) {
    await pool.execute(
      'INSERT INTO order_items (order_id, line_no, sku, name, quantity, unit_price, line_total) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?)',
      [
        o.order_id,
        line,
        i.sku,
        i.name,
        i.quantity,
        i.unit_price,
        i.quantity * Number(i.unit_price),
      ],
    );
  }
  await queue.add('process', { orderId: o.order_id });
}

const STEPS = [
  ['pending', 'processing'],
  ['processing', 'completed'],
] as const;

const worker = new Worker<{ orderId: string }>(
  'orders',
  async (job) => {
    for (const [from, to] of STEPS) {
      await pool.execute(
        'UPDATE orders SET status = ?, version = version + 1, updated_at = NOW(3), ' +
          "completed_at = IF(? = 'completed', NOW(3), NULL) WHERE order_id = ? AND status = ?",
        [to, to, job.data.orderId, from],
      );
    }
  },
  { connection: connection.duplicate(), prefix, concurrency: 16 },
);

const app = express();
app.use(express.json({ limit: '5mb' }));
app.get('/healthz', (_req, res) => {
  res.json({ status: 'ok' });
});
app.post('/orders', async (req, res) => {
  const orders = (Array.isArray(req.body) ? req.body : [req.body]) as OrderBody[];
  for (const o of orders) await insertOrder(o);
  res.status(201).json({ order_ids: orders.map((o) => o.order_id) });
});
const server = app.listen(Number(process.env.PORT ?? 8082), '127.0.0.1');

process.once('SIGTERM', () => {
  server.close();
  void Promise.allSettled([worker.close(), queue.close()])
    .then(() => Promise.allSettled([pool.end(), connection.quit()]))
    .finally(() => process.exit(0));
});
