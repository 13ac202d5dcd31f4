import { Queue } from 'bullmq';
import { createBatcher, Outcome } from '../lib/batcher';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';
import { isOutageError } from './redis';

export const ORDERS_QUEUE = 'orders';

export interface OrderJob {
  orderId: string;
}

/** Attempts before the worker marks an order failed; backoff 1 s, 2 s, 4 s, 8 s. */
export const ORDER_JOB_ATTEMPTS = 5;

/**
 * BullMQ ids must not contain ':' and order ids may, so the id is base64url-encoded. The id
 * de-duplicates only while the job exists: completed and failed jobs are removed, so the
 * reconciler can enqueue an unfinished order again and a stray duplicate run is a no-op.
 */
export function orderJobId(orderId: string): string {
  return `order-${Buffer.from(orderId).toString('base64url')}`;
}

const UNSENT_MAX = 100_000;

export function createOrderQueue(
  connection: Redis,
  prefix: string,
  logger: Logger,
  backoffMs = 1000,
) {
  const queue = new Queue<OrderJob>(ORDERS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: ORDER_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: backoffMs },
      removeOnComplete: true,
      removeOnFail: true,
    },
  });

  // Without a listener BullMQ prints raw errors; ours are JSON lines, outages excepted (the
  // producer's reconnect line tells those).
  queue.on('error', (err) => {
    if (!isOutageError(err, connection)) logger.warn('orders queue error', { error: err.message });
  });

  // Concurrent requests' orders go to Redis together: one addBulk while another is in flight.
  const add = createBatcher(
    async (groups: string[][]): Promise<Outcome<void>[]> => {
      await queue.addBulk(
        groups.flat().map((orderId) => ({
          name: 'process',
          data: { orderId },
          opts: { jobId: orderJobId(orderId) },
        })),
      );
      return groups.map(() => ({ ok: true, value: undefined }));
    },
    { maxSize: 1000, sizeOf: (ids) => ids.length },
  );

  // Orders whose enqueue failed (Redis down or stalled) are enqueued again by this process as
  // soon as Redis is back, seconds rather than the reconciler's 30 s; if the process dies first,
  // the reconciler still finds them in MySQL. Bounded: past it, the reconciler alone.
  const unsent = new Set<string>();
  connection.on('ready', () => {
    if (unsent.size === 0) return;
    const ids = [...unsent];
    unsent.clear();
    add(ids).catch(() => remember(ids));
  });
  function remember(orderIds: string[]): void {
    for (const id of orderIds) if (unsent.size < UNSENT_MAX) unsent.add(id);
  }

  async function enqueue(orderIds: string[]): Promise<void> {
    if (orderIds.length === 0) return;
    try {
      await add(orderIds);
    } catch (err) {
      remember(orderIds);
      throw err;
    }
  }

  return { queue, enqueue, close: () => queue.close() };
}

export type OrderQueue = ReturnType<typeof createOrderQueue>;
