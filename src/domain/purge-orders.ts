import type { Logger } from '../lib/logger';
import type { IdempotencyRepository } from '../data-access/idempotency-repository';
import type { OrderRepository } from '../data-access/order-repository';

/** Small batches keep each Galera write set small. */
const BATCH = 500;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Deletes finished orders past retention and expired idempotency records; aggregates stay. */
export function createPurgeOrders(deps: {
  orders: OrderRepository;
  idempotency: IdempotencyRepository;
  retentionDays: number;
  logger: Logger;
}) {
  return async function purgeOrders(): Promise<{ orders: number; idempotencyKeys: number }> {
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
    if (orders + idempotencyKeys > 0) {
      deps.logger.info('purged old records', { orders, idempotency_keys: idempotencyKeys });
    }
    return { orders, idempotencyKeys };
  };
}
