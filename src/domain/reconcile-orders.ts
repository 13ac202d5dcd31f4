import type { Logger } from '../lib/logger';
import type { OrderQueue } from '../data-access/order-queue';
import type { OrderRepository } from '../data-access/order-repository';

/** An order unchanged this long is assumed never enqueued, or its job lost. */
export const STALE_AFTER_MS = 30_000;
/** Per run; a larger backlog is taken by the next runs, 30 s apart. */
const LIMIT = 10_000;
/** Orders per job. */
const CHUNK = 1000;

/**
 * Committing to MySQL and enqueueing to Redis are two systems; this closes the gap. Orders
 * still pending or processing after STALE_AFTER_MS are enqueued again. An order whose job
 * still exists (a backlog older than that) is enqueued twice: processing is idempotent, and the
 * later run skips it with one read per thousand orders.
 */
export function createReconcileOrders(deps: {
  orders: OrderRepository;
  queue: Pick<OrderQueue, 'enqueue'>;
  logger: Logger;
  staleAfterMs?: number;
}) {
  return async function reconcileOrders(
    staleAfterMs = deps.staleAfterMs ?? STALE_AFTER_MS,
  ): Promise<number> {
    const before = new Date(Date.now() - staleAfterMs);
    const ids = await deps.orders.findUnfinished(before, LIMIT);
    for (let i = 0; i < ids.length; i += CHUNK) {
      await deps.queue.enqueue(ids.slice(i, i + CHUNK));
    }
    const total = ids.length;
    if (total > 0) deps.logger.info('reconciler enqueued unfinished orders', { orders: total });
    return total;
  };
}
