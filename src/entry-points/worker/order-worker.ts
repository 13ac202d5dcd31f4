import { DelayedError, Worker } from 'bullmq';
import { AppError } from '../../lib/app-error';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import { runWithContext } from '../../lib/request-context';
import { jobOrderIds, ORDERS_QUEUE, OrderJob } from '../../data-access/order-queue';
import { isOutageError } from '../../data-access/redis';
import type { ProcessOrders, ProcessOutcome } from '../../domain/process-order';

/** 1 s doubling, capped at 10 s (so work resumes soon after MySQL is back), jittered. */
export function outageRetryDelay(outages: number): number {
  const capped = Math.min(1000 * 2 ** Math.max(0, outages - 1), 10_000);
  return Math.round(capped / 2 + (Math.random() * capped) / 2);
}

/** A job's outcome label: completed if any of its orders was, else skipped, else missing. */
function jobOutcome(counts: Record<ProcessOutcome, number>): ProcessOutcome {
  if (counts.completed > 0) return 'completed';
  return counts.skipped > 0 ? 'skipped' : 'missing';
}

/** Consumes the orders queue. Delivery is at least once; processOrders makes it once in effect. */
export function createOrderWorker(deps: {
  connection: Redis;
  prefix: string;
  /** The database this worker reads, named when a job's order is not there. */
  database: string;
  processOrders: ProcessOrders;
  metrics: Metrics;
  logger: Logger;
  concurrency?: number;
  /** BullMQ lock of a running job (30 s default); a job whose worker died runs again after it. */
  lockMs?: number;
}): Worker<OrderJob> {
  const worker = new Worker<OrderJob>(
    ORDERS_QUEUE,
    (job, token) =>
      runWithContext({ job_id: job.id }, async () => {
        const end = deps.metrics.jobDuration.startTimer();
        const orderIds = jobOrderIds(job.data);
        // attemptsMade counts finished attempts, so this run is number attemptsMade + 1.
        const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        try {
          const counts = await deps.processOrders(orderIds, lastAttempt);
          end({ outcome: jobOutcome(counts) });
          if (counts.missing > 0) {
            // Orders are committed before they are enqueued: the job is another database's (a
            // deployment sharing this Redis prefix) or its orders were deleted by hand.
            deps.metrics.jobsMissing.inc(counts.missing);
            deps.logger.warn('order job names orders not in this database; those are dropped', {
              orders: counts.missing,
              order_ids: orderIds.slice(0, 10),
              database: deps.database,
              redis_prefix: deps.prefix,
            });
          }
          return counts;
        } catch (err) {
          if (err instanceof AppError && err.code === 'dependency-unavailable' && token) {
            end({ outcome: 'deferred' });
            // Not an attempt: the job waits out the outage with its attempts intact.
            const outages = job.attemptsStarted - job.attemptsMade;
            const delayMs = outageRetryDelay(outages);
            // Debug: an outage with a backlog would log a line per job per try; the outage itself
            // is in dependency_up, /readyz and order_job_duration_seconds{outcome="deferred"}.
            deps.logger.debug('order job deferred: a dependency is unavailable', {
              error: err.message,
              retry_in_ms: delayMs,
            });
            await job.moveToDelayed(Date.now() + delayMs, token);
            throw new DelayedError();
          }
          end({ outcome: 'error' });
          deps.logger.warn('order job attempt failed', {
            attempt: job.attemptsMade + 1,
            orders: orderIds.length,
            order_ids: orderIds.slice(0, 10),
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
      ...crashRecovery(deps.lockMs),
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

/**
 * A dead worker's jobs run again once their lock expires and a stalled check sees it: within
 * lockDuration + stalledInterval (15 s), not BullMQ's default 60 s. Crashes are not the job's
 * fault: a job that stalled is run again, not failed. Shared by every BullMQ worker here.
 */
export function crashRecovery(lockMs?: number) {
  return {
    lockDuration: lockMs ?? 10_000,
    stalledInterval: lockMs ?? 5_000,
    maxStalledCount: 100,
  };
}
