import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';
import { isOutageError } from './redis';

/** Its own queue and worker: a slow endpoint takes webhook slots, never order-processing ones. */
export const WEBHOOKS_QUEUE = 'webhooks';

/** The backoff type the webhook worker's strategy implements. */
export const WEBHOOK_BACKOFF = 'webhook';

export interface WebhookJob {
  deliveryId: string;
  /** A manager's redelivery: one attempt, sent even if the delivery succeeded before. */
  redeliver?: boolean;
}

export function createWebhookQueue(
  connection: Redis,
  prefix: string,
  logger: Logger,
  attempts: number,
) {
  const queue = new Queue<WebhookJob>(WEBHOOKS_QUEUE, { connection, prefix });
  queue.on('error', (err) => {
    if (!isOutageError(err, connection))
      logger.warn('webhooks queue error', { error: err.message });
  });

  return {
    queue,
    /**
     * The job id is the delivery id (derived from event and endpoint), so BullMQ ignores a
     * second add while the first job exists. Finished jobs are removed (millions of events a
     * day would otherwise pile up in Redis): the delivery row is what makes a later re-publish
     * a no-op, since the worker sends only deliveries still pending.
     */
    async enqueueDeliveries(deliveryIds: string[]): Promise<void> {
      if (deliveryIds.length === 0) return;
      await queue.addBulk(
        deliveryIds.map((deliveryId) => ({
          name: 'deliver',
          data: { deliveryId },
          opts: {
            jobId: deliveryId,
            attempts,
            backoff: { type: WEBHOOK_BACKOFF },
            removeOnComplete: true,
            removeOnFail: { age: 24 * 3600, count: 10_000 },
          },
        })),
      );
    },
    async enqueueRedelivery(deliveryId: string): Promise<void> {
      await queue.add(
        'redeliver',
        { deliveryId, redeliver: true },
        { attempts: 1, removeOnComplete: true, removeOnFail: { age: 24 * 3600, count: 10_000 } },
      );
    },
    close: () => queue.close(),
  };
}

export type WebhookQueue = ReturnType<typeof createWebhookQueue>;
