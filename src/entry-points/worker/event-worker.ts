import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../../lib/logger';
import type { OrderEvent } from '../../domain/order-event';
import { EventBatch, EVENTS_QUEUE } from '../../data-access/event-publisher';
import { isOutageError } from '../../data-access/redis';
import { crashRecovery } from './order-worker';

/** What consumes a relay round's order events: webhook dispatch. */
export type HandleEvents = (events: OrderEvent[]) => Promise<void>;

/** Consumes the order-events queue, a relay round per job; at least once: the event id
 *  de-duplicates. */
export function createEventWorker(deps: {
  connection: Redis;
  prefix: string;
  logger: Logger;
  handle?: HandleEvents;
}): Worker<EventBatch> {
  const handle = deps.handle ?? (async () => {});
  const worker = new Worker<EventBatch>(EVENTS_QUEUE, (job) => handle(job.data.events), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: 50,
    autorun: false,
    ...crashRecovery(),
  });
  worker.on('error', (err) => {
    if (!isOutageError(err, deps.connection)) {
      deps.logger.warn('events worker error', { error: err.message });
    }
  });
  return worker;
}
