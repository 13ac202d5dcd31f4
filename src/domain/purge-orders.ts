import type { Logger } from '../lib/logger';
import type { IdempotencyRepository } from '../data-access/idempotency-repository';
import type { OrderRepository } from '../data-access/order-repository';
import type { EventOutbox } from '../data-access/event-outbox';

/** Small batches keep each Galera write set small. */
const BATCH = 500;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Deletes finished orders past retention, expired idempotency records and published events
 * past theirs (streams cannot resume from before it); aggregates stay.
 */
export function createPurgeOrders(deps: {
  orders: OrderRepository;
  idempotency: IdempotencyRepository;
  events: Pick<EventOutbox, 'purgePublished'>;
  retentionDays: number;
  eventRetentionHours: number;
  logger: Logger;
}) {
  return async function purgeOrders(): Promise<{
    orders: number;
    idempotencyKeys: number;
    events: number;
  }> {
    let orders = 0;
    if (deps.retentionDays > 0) {
      const before = new Date(Date.now() - deps.retentionDays * DAY_MS);
      for (let n = BATCH; n === BATCH; orders += n) {
        n = await deps.orders.purgeFinished(before, BATCH);
      }
    }
    let idempotencyKeys = 0;
    for (let n = BATCH; n === BATCH; idempotencyKeys += n) {
      n = await deps.idempotency.purgeExpired(BATCH);
    }
    let events = 0;
    const eventsBefore = new Date(Date.now() - deps.eventRetentionHours * HOUR_MS);
    for (let n = BATCH; n === BATCH; events += n) {
      n = await deps.events.purgePublished(eventsBefore, BATCH);
    }
    if (orders + idempotencyKeys + events > 0) {
      deps.logger.info('purged old records', {
        orders,
        idempotency_keys: idempotencyKeys,
        events,
      });
    }
    return { orders, idempotencyKeys, events };
  };
}
