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

/** A relay round's events, in sequence order: one job and one message for all of them. */
export interface EventBatch {
  events: OrderEvent[];
}

/**
 * The job id of a round's events: their sequence range. A relay re-publishing a round it did
 * not mark takes the same numbered events again, so the job is the same and not added twice.
 * Two relays at once (a lost lease) may re-publish in ranges of their own, an event in two
 * jobs: consumers de-duplicate by event id (webhook delivery ids, the streams' seen set).
 */
export function eventBatchId(events: OrderEvent[]): string {
  return `events-${events[0]!.sequence}-${events.at(-1)!.sequence}`;
}

/**
 * Publishes a round's events to the BullMQ queue as one job (BullMQ costs ~150 µs of worker
 * CPU per job: one per event tripled the CPU of an order) and to the streams' pub/sub channel
 * as one message (at least once: streams drop what they have sent).
 */
export function createEventPublisher(connection: Redis, prefix: string, logger: Logger) {
  const queue = new Queue<EventBatch>(EVENTS_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      // A round whose dispatch fails (MySQL or Redis away) is tried again, 1 s doubling: about
      // 12 days in all, so an outage does not lose its webhook deliveries.
      attempts: 20,
      backoff: { type: 'exponential', delay: 1000 },
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
    await queue.add('events', { events }, { jobId: eventBatchId(events) });
    await connection.publish(channel, JSON.stringify(events));
  }

  return { queue, publish, close: () => queue.close() };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
