import { AppError } from '../lib/app-error';
import type { Logger } from '../lib/logger';
import { unavailableDependency } from '../data-access/dependency-errors';
import type { Metrics } from '../lib/metrics';
import type { OrderRepository } from '../data-access/order-repository';
import { canTransition, Order, Transition, transition } from './order';

export type ProcessOutcome = 'completed' | 'skipped' | 'missing';

/**
 * The work of processing an order before it counts as completed (payment capture, stock
 * reservation). The service ships none; it is the seam where such a step goes.
 */
export type Fulfil = (order: Order) => Promise<void>;

export function createProcessOrder(deps: {
  orders: OrderRepository;
  metrics: Metrics;
  logger: Logger;
  fulfil?: Fulfil;
}) {
  const fulfil = deps.fulfil ?? (async () => {});

  function record({ from, to }: Transition): void {
    deps.metrics.transitions.inc({ from, to });
    deps.logger.info('order status changed', { from, to });
  }

  async function move(orderId: string, step: Transition, order?: Order): Promise<boolean> {
    const moved = await deps.orders.transition(orderId, step, undefined, order);
    if (moved) record(step);
    return moved;
  }

  function completed(order: Order): ProcessOutcome {
    deps.metrics.processingDuration.observe((Date.now() - order.created_at.getTime()) / 1000);
    return 'completed';
  }

  /**
   * pending → processing → completed, each step a guarded update: a job delivered twice, a
   * stale job for a cancelled order, or two workers racing all end with one effect. On the
   * last attempt a failure marks the order failed.
   */
  return async function processOrder(
    orderId: string,
    lastAttempt: boolean,
  ): Promise<ProcessOutcome> {
    try {
      const order = await deps.orders.findOrder(orderId);
      if (!order) return 'missing';
      let status = order.status;
      // With no fulfilment step, nothing happens between the two steps: one commit for both,
      // shared with the other orders completing at that moment.
      if (!deps.fulfil && status === 'pending') {
        if (!(await deps.orders.completePending(order))) return 'skipped';
        record(transition('pending', 'processing'));
        record(transition('processing', 'completed'));
        return completed(order);
      }
      if (canTransition(status, 'processing')) {
        if (!(await move(orderId, transition(status, 'processing')))) return 'skipped';
        status = 'processing';
      }
      // Finished already (a redelivered job), or cancelled before it was picked up.
      if (!canTransition(status, 'completed')) return 'skipped';
      await fulfil(order);
      if (!(await move(orderId, transition(status, 'completed'), order))) return 'skipped';
      return completed(order);
    } catch (err) {
      // An outage says nothing about the order: it is retried for as long as the outage lasts,
      // never failed because of it.
      const dependency = unavailableDependency(err);
      if (dependency) {
        throw new AppError('dependency-unavailable', `${dependency} is unavailable`, {
          cause: err,
        });
      }
      if (lastAttempt) {
        deps.logger.error('order processing failed after the last attempt', {
          error: (err as Error).message,
        });
        // Best effort: if MySQL is down too, the reconciler retries the order later.
        await move(orderId, transition('processing', 'failed')).catch(() => false);
      }
      throw err;
    }
  };
}

export type ProcessOrder = ReturnType<typeof createProcessOrder>;
