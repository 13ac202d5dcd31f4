import { Queue } from 'bullmq';
import { createBatcher, Outcome } from '../lib/batcher';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';
import { isOutageError } from './redis';

export const ORDERS_QUEUE = 'orders';

/**
 * One job carries the orders of one enqueue (those of the api transactions committed together,
 * or a reconciler chunk). Jobs enqueued by versions before group jobs carry `orderId`.
 */
export interface OrderJob {
  orderIds?: string[];
  orderId?: string;
}

export function jobOrderIds(job: OrderJob): string[] {
  return job.orderIds ?? (job.orderId === undefined ? [] : [job.orderId]);
}

/** Attempts before the worker marks an order failed; backoff 1 s, 2 s, 4 s, 8 s. */
export const ORDER_JOB_ATTEMPTS = 5;

/** The most orders one job carries. */
const JOB_MAX_ORDERS = 1000;

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

  // Concurrent requests' orders go to Redis together, as one job, while another add is in
  // flight. Job ids are BullMQ's own: a job enqueued twice (a reconciler run, a re-send after
  // an outage) is processed twice, and the second run finds its orders finished.
  const add = createBatcher(
    async (groups: string[][]): Promise<Outcome<void>[]> => {
      await queue.add('process', { orderIds: groups.flat() });
      return groups.map(() => ({ ok: true, value: undefined }));
    },
    { maxSize: JOB_MAX_ORDERS, sizeOf: (ids) => ids.length },
  );

  // Orders whose enqueue failed (Redis down or stalled) are enqueued again by this process as
  // soon as Redis is back, seconds rather than the reconciler's 30 s; if the process dies first,
  // the reconciler still finds them in MySQL. Bounded: past it, the reconciler alone.
  const unsent = new Set<string>();
  connection.on('ready', () => {
    if (unsent.size === 0) return;
    const ids = [...unsent];
    unsent.clear();
    enqueue(ids).catch(() => undefined);
  });
  function remember(orderIds: string[]): void {
    for (const id of orderIds) if (unsent.size < UNSENT_MAX) unsent.add(id);
  }

  async function enqueue(orderIds: string[]): Promise<void> {
    if (orderIds.length === 0) return;
    const jobs: string[][] = [];
    for (let i = 0; i < orderIds.length; i += JOB_MAX_ORDERS) {
      jobs.push(orderIds.slice(i, i + JOB_MAX_ORDERS));
    }
    try {
      await Promise.all(jobs.map(add));
    } catch (err) {
      remember(orderIds);
      throw err;
    }
  }

  return { queue, enqueue, close: () => queue.close() };
}

export type OrderQueue = ReturnType<typeof createOrderQueue>;
