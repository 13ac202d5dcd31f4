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
 * Completed jobs kept so that a relay re-publishing after a crash (its lease expires in
 * seconds) finds them: BullMQ de-duplicates a job id only while the job exists. Bounded by
 * count too, so a busy hour does not fill Redis; consumers still de-duplicate by event id.
 */
const KEEP = { age: 3600, count: 100_000 };

/**
 * Publishes events to the BullMQ queue (job id = event id, so a re-publish is a no-op) and to
 * the streams' pub/sub channel (at least once: streams drop what they have sent).
 */
export function createEventPublisher(connection: Redis, prefix: string, logger: Logger) {
  const queue = new Queue<OrderEvent>(EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      removeOnComplete: KEEP,
      removeOnFail: { age: 24 * 3600 },
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
