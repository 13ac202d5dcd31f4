import { AppError } from '../lib/app-error';
import type { Logger } from '../lib/logger';
import { unavailableDependency } from '../data-access/dependency-errors';
import type { Metrics } from '../lib/metrics';
import { currentContext, runWithContext } from '../lib/request-context';
import type { OrderRepository } from '../data-access/order-repository';
import { canTransition, OrderToProcess, Transition, transition } from './order';

export type ProcessOutcome = 'completed' | 'skipped' | 'missing';

/**
 * The work of processing an order before it counts as completed (payment capture, stock
 * reservation). The service ships none; it is the seam where such a step goes.
 */
export type Fulfil = (order: OrderToProcess) => Promise<void>;

export function createProcessOrders(deps: {
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

  async function move(orderId: string, step: Transition, order?: OrderToProcess): Promise<boolean> {
    const moved = await deps.orders.transition(orderId, step, { loaded: order });
    if (moved) record(step);
    return moved;
  }

  function completed(order: OrderToProcess): ProcessOutcome {
    deps.metrics.processingDuration.observe((Date.now() - order.created_at.getTime()) / 1000);
    return 'completed';
  }

  /**
   * pending → processing → completed, each step a guarded update: a job delivered twice, a
   * stale job for a cancelled order, or two workers racing all end with one effect. On the
   * last attempt a failure marks the order failed.
   */
  async function processOne(order: OrderToProcess, lastAttempt: boolean): Promise<ProcessOutcome> {
    try {
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
        if (!(await move(order.order_id, transition(status, 'processing')))) return 'skipped';
        status = 'processing';
      }
      // Finished already (a redelivered job), or cancelled before it was picked up.
      if (!canTransition(status, 'completed')) return 'skipped';
      await fulfil(order);
      if (!(await move(order.order_id, transition(status, 'completed'), order))) return 'skipped';
      return completed(order);
    } catch (err) {
      const error = asOutage(err);
      if (error === err && lastAttempt) {
        deps.logger.error('order processing failed after the last attempt', {
          error: (err as Error).message,
        });
        // Best effort: if MySQL is down too, the reconciler retries the order later.
        await move(order.order_id, transition('processing', 'failed')).catch(() => false);
      }
      throw error;
    }
  }

  /**
   * The orders of one job (one api transaction's, or a reconciler chunk). Without a fulfilment
   * step they complete together, in the transactions of the completion group commit; with one,
   * one after the other (as many at once as the worker runs jobs). Every order is tried even
   * when another fails; an outage ends the job at once (the whole job waits it out). Throws the
   * first failure after the others are done, so the job is retried: orders finished already
   * are skipped then, and each failing order keeps its own attempts.
   */
  return async function processOrders(
    orderIds: string[],
    lastAttempt: boolean,
  ): Promise<Record<ProcessOutcome, number>> {
    const counts: Record<ProcessOutcome, number> = { completed: 0, skipped: 0, missing: 0 };
    let orders: OrderToProcess[];
    try {
      orders = await deps.orders.findOrders(orderIds);
    } catch (err) {
      throw asOutage(err);
    }
    counts.missing = new Set(orderIds).size - orders.length;
    // In the job's order (a request's): a batch's orders complete in one transaction, and the
    // read models take the name of the later of two orders placed at the same millisecond.
    const position = new Map(orderIds.map((id, i) => [id, i]));
    orders.sort((a, b) => position.get(a.order_id)! - position.get(b.order_id)!);
    const errors: unknown[] = [];
    const one = (order: OrderToProcess) =>
      runWithContext({ ...currentContext(), order_id: order.order_id }, () =>
        processOne(order, lastAttempt),
      ).then(
        (outcome) => void counts[outcome]++,
        (err: unknown) => void errors.push(err),
      );
    if (deps.fulfil) {
      for (const order of orders) {
        await one(order);
        if (errors.some(isOutage)) break;
      }
    } else {
      await Promise.all(orders.map(one));
    }
    const first = errors.find(isOutage) ?? errors[0];
    if (first !== undefined) throw first;
    return counts;
  };
}

/**
 * An outage says nothing about the order: it is retried for as long as the outage lasts, never
 * failed because of it.
 */
function asOutage(err: unknown): unknown {
  const dependency = unavailableDependency(err);
  return dependency
    ? new AppError('dependency-unavailable', `${dependency} is unavailable`, { cause: err })
    : err;
}

function isOutage(err: unknown): boolean {
  return err instanceof AppError && err.code === 'dependency-unavailable';
}

export type ProcessOrders = ReturnType<typeof createProcessOrders>;
