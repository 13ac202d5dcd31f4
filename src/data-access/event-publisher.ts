import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';
import type { OrderEvent } from '../domain/order-event';
import { isOutageError } from './redis';

export const EVENTS_QUEUE = 'order-events';

/** Redis pub/sub channel of the live streams: every api replica hears every event. */
export function eventsChannel(prefix: string): string {
  return `${prefix}:order-events`;
}

/**
 * Long enough that a relay re-publishing after a crash (its lock expires in seconds) finds the
 * job still there: BullMQ de-duplicates a job id only while the job exists.
 */
const KEEP_SECONDS = 3600;

/**
 * Publishes events to the BullMQ queue (job id = event id, so a re-publish is a no-op) and to
 * the streams' pub/sub channel (at least once: streams drop what they have sent).
 */
export function createEventPublisher(connection: Redis, prefix: string, logger: Logger) {
  const queue = new Queue<OrderEvent>(EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      removeOnComplete: { age: KEEP_SECONDS },
      removeOnFail: { age: 24 * KEEP_SECONDS },
    },
  });
  queue.on('error', (err) => {
    if (!isOutageError(err, connection)) logger.warn('events queue error', { error: err.message });
  });
  const channel = eventsChannel(prefix);

  async function publish(events: OrderEvent[]): Promise<void> {
    if (events.length === 0) return;
    await queue.addBulk(events.map((e) => ({ name: e.type, data: e, opts: { jobId: e.id } })));
    const fanOut = connection.pipeline();
    for (const e of events) fanOut.publish(channel, JSON.stringify(e));
    const replies = (await fanOut.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (failed) throw failed[0];
  }

  return { queue, publish, close: () => queue.close() };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
