import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { runWithContext } from '../../lib/request-context';
import { ORDERS_QUEUE, OrderJob } from '../../data-access/order-queue';
import { isOutageError } from '../../data-access/redis';
import type { ProcessOrder } from '../../domain/process-order';

/** Consumes the orders queue. Delivery is at least once; processOrder makes it once in effect. */
export function createOrderWorker(deps: {
  connection: Redis;
  prefix: string;
  /** The database this worker reads, named when a job's order is not there. */
  database: string;
  processOrder: ProcessOrder;
  metrics: Metrics;
  logger: Logger;
  concurrency?: number;
  /** BullMQ lock of a running job (30 s default); a job whose worker died runs again after it. */
  lockMs?: number;
}): Worker<OrderJob> {
  const worker = new Worker<OrderJob>(
    ORDERS_QUEUE,
    (job) =>
      runWithContext({ job_id: job.id, order_id: job.data.orderId }, async () => {
        const end = deps.metrics.jobDuration.startTimer();
        // attemptsMade counts finished attempts, so this run is number attemptsMade + 1.
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        try {
          const outcome = await deps.processOrder(job.data.orderId, lastAttempt);
          end({ outcome });
          if (outcome === 'missing') {
            // Orders are committed before they are enqueued: the job is another database's (a
            // deployment sharing this Redis prefix) or its order was deleted by hand.
            deps.metrics.jobsMissing.inc();
            deps.logger.warn('order job for an order not in this database, dropped', {
              database: deps.database,
              redis_prefix: deps.prefix,
            });
          }
          return outcome;
        } catch (err) {
          end({ outcome: 'error' });
          deps.logger.warn('order job attempt failed', {
            attempt: job.attemptsMade + 1,
            error: (err as Error).message,
          });
          throw err;
        }
      }),
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency ?? 16,
      autorun: false,
      ...(deps.lockMs ? { lockDuration: deps.lockMs, stalledInterval: deps.lockMs } : {}),
    },
  );
  // Outages are in the producer's reconnect line already.
  worker.on('error', (err) => {
    if (!isOutageError(err, deps.connection)) {
      deps.logger.warn('order worker error', { error: err.message });
    }
  });
  return worker;
}
