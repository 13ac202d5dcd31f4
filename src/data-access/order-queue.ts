import { Queue } from 'bullmq';
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

  async function enqueue(orderIds: string[]): Promise<void> {
    if (orderIds.length === 0) return;
    await queue.addBulk(
      orderIds.map((orderId) => ({
        name: 'process',
        data: { orderId },
        opts: { jobId: orderJobId(orderId) },
      })),
    );
  }

  return { queue, enqueue, close: () => queue.close() };
}

export type OrderQueue = ReturnType<typeof createOrderQueue>;
