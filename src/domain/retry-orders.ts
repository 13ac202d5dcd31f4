import { AppError } from '../lib/app-error';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { OrderQueue } from '../data-access/order-queue';
import type { FailedFilter, OrderRepository } from '../data-access/order-repository';
import { Order, transition } from './order';
import type { Principal } from './principal';
import { findVisibleOrder } from './read-orders';

/** The one step a retry takes; the lifecycle must allow it. */
const RETRY = transition('failed', 'pending');

/** Orders per transaction of a bulk retry: short row locks beside the worker and cancels. */
export const RETRY_CHUNK = 100;

export interface RetryFilter {
  failedSince: Date;
  /** Defaults to the time of the request, so orders failing again meanwhile are left alone. */
  failedBefore?: Date;
  customerId?: string;
  limit: number;
}

export interface RetriedOrders {
  count: number;
  /** The limit cut the run short: the same request again takes the next ones. */
  more: boolean;
  failedBefore: Date;
}

/**
 * failed → pending, recorded with who asked, then enqueued after COMMIT like a new order: if
 * Redis is down the order stays pending and the reconciler enqueues it later.
 */
export function createRetryOrders(deps: {
  orders: OrderRepository;
  queue: Pick<OrderQueue, 'enqueue'>;
  metrics: Metrics;
  logger: Logger;
}) {
  function assertManager(principal: Principal): void {
    if (principal.role !== 'manager') {
      throw new AppError('forbidden', 'Only managers may retry orders.');
    }
  }

  /** Counted and enqueued once committed. */
  async function redrive(orderIds: string[]): Promise<void> {
    deps.metrics.transitions.inc({ from: RETRY.from, to: RETRY.to }, orderIds.length);
    await deps.queue.enqueue(orderIds).catch((err: Error) => {
      deps.logger.warn('enqueue failed; the reconciler will pick the orders up', {
        orders: orderIds.length,
        error: err.message,
      });
    });
  }

  /**
   * Guarded by status and the version read: of two concurrent retries one wins, the other
   * answers 409 for the order as it is by then.
   */
  async function retryOrder(principal: Principal, orderId: string): Promise<Order> {
    assertManager(principal);
    const order = await findVisibleOrder(deps.orders, principal, orderId);
    const retried =
      order.status === RETRY.from &&
      (await deps.orders.transition(orderId, RETRY, {
        expectedVersion: order.version,
        actor: principal.username,
      }));
    const current = await findVisibleOrder(deps.orders, principal, orderId);
    if (!retried) throw notRetryable(current);
    deps.logger.info('order retried', { order_id: orderId, actor: principal.username });
    // Read before enqueueing: the answer shows the order pending, not already picked up.
    await redrive([orderId]);
    return current;
  }

  /**
   * Page by page (RETRY_CHUNK orders, one transaction each), oldest created first, each page
   * enqueued after its COMMIT. Synchronous and bounded by `limit`.
   */
  async function retryFailedOrders(
    principal: Principal,
    filter: RetryFilter,
  ): Promise<RetriedOrders> {
    assertManager(principal);
    // Only an end the client named can come before the start; a start in the future with no
    // end named simply matches nothing.
    if (filter.failedBefore && filter.failedBefore <= filter.failedSince) {
      throw new AppError('validation', 'failed_before must be later than failed_since.', {
        errors: [{ path: '/failed_before', message: 'must be later than failed_since' }],
      });
    }
    const failedBefore = clamp(filter.failedBefore ?? new Date());
    const matching: FailedFilter = {
      failedSince: clamp(filter.failedSince),
      failedBefore,
      customerId: filter.customerId,
    };
    let count = 0;
    let transactions = 0;
    let more = false;
    for (;;) {
      const want = Math.min(RETRY_CHUNK, filter.limit - count);
      const page = await deps.orders.retryFailedPage(matching, want, principal.username);
      transactions++;
      if (page.orderIds.length > 0) await redrive(page.orderIds);
      count += page.orderIds.length;
      matching.after = page.next;
      if (page.scanned < want) break;
      if (count >= filter.limit) {
        more = await deps.orders.anyFailed(matching);
        break;
      }
    }
    deps.logger.info('failed orders retried', {
      orders: count,
      transactions,
      more,
      actor: principal.username,
    });
    return { count, more, failedBefore };
  }

  return { retryOrder, retryFailedOrders };
}

/** What a DATETIME column holds; an RFC 3339 offset can reach past year 9999. */
const EARLIEST = new Date('1000-01-01T00:00:00.000Z');
const LATEST = new Date('9999-12-31T23:59:59.999Z');

function clamp(at: Date): Date {
  return at < EARLIEST ? EARLIEST : at > LATEST ? LATEST : at;
}

function notRetryable(order: Order): AppError {
  return new AppError(
    'invalid-transition',
    `Only a failed order can be retried; this one is ${order.status}.`,
  );
}

export type RetryOrders = ReturnType<typeof createRetryOrders>;
