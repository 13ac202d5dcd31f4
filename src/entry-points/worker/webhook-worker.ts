import { DelayedError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger';
import { runWithContext } from '../../lib/request-context';
import { WEBHOOK_BACKOFF, WEBHOOKS_QUEUE, WebhookJob } from '../../data-access/webhook-queue';
import { isOutageError } from '../../data-access/redis';
import { unavailableDependency } from '../../data-access/dependency-errors';
import { crashRecovery, outageRetryDelay } from './order-worker';
import { DeliverWebhook, DeliveryFailed } from '../../domain/deliver-webhook';
import { retryDelay, RetrySchedule } from '../../domain/webhook-retry';

/**
 * Consumes the webhooks queue with its own concurrency: a hanging endpoint holds at most the
 * attempt timeout of one slot, and order jobs never wait behind it.
 */
export function createWebhookWorker(deps: {
  connection: Redis;
  prefix: string;
  deliverWebhook: DeliverWebhook;
  retry: RetrySchedule;
  concurrency: number;
  logger: Logger;
}): Worker<WebhookJob> {
  const worker = new Worker<WebhookJob>(
    WEBHOOKS_QUEUE,
    (job, token) =>
      runWithContext({ job_id: job.id }, async () => {
        const { deliveryId, redeliver = false } = job.data;
        try {
          return await deps.deliverWebhook.deliver(deliveryId, redeliver);
        } catch (err) {
          if (unavailableDependency(err) && token) {
            // Our outage, not the endpoint's: wait it out with the attempts intact.
            const outages = job.attemptsStarted - job.attemptsMade;
            await job.moveToDelayed(Date.now() + outageRetryDelay(outages), token);
            throw new DelayedError();
          }
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          if (err instanceof DeliveryFailed && lastAttempt) {
            await deps.deliverWebhook.giveUp(deliveryId, !redeliver);
          }
          throw err;
        }
      }),
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency,
      autorun: false,
      ...crashRecovery(),
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) =>
          type === WEBHOOK_BACKOFF ? retryDelay(attemptsMade, deps.retry) : 1000,
      },
    },
  );
  worker.on('error', (err) => {
    if (!isOutageError(err, deps.connection)) {
      deps.logger.warn('webhook worker error', { error: err.message });
    }
  });
  return worker;
}
