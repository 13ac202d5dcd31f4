import { AppError } from '../lib/app-error';
import type { Metrics } from '../lib/metrics';
import type { OrderRepository } from '../data-access/order-repository';
import { canTransition, invalidTransition, Order, transition } from './order';
import type { Principal } from './principal';
import { findVisibleOrder, orderFor } from './read-orders';

/**
 * pending → cancelled. `expectedVersion` comes from If-Match: a stale version is 412. The
 * update is guarded by status and version, so a worker that moves the order first wins and
 * the cancel answers 409.
 */
export function createCancelOrder(deps: { orders: OrderRepository; metrics: Metrics }) {
  return async function cancelOrder(
    principal: Principal,
    orderId: string,
    expectedVersion?: number,
  ): Promise<Order> {
    const checkVersion = (order: Order) => {
      if (expectedVersion !== undefined && order.version !== expectedVersion) {
        throw new AppError(
          'precondition-failed',
          `The order is at version ${order.version}, not ${expectedVersion}.`,
        );
      }
    };
    const order = await findVisibleOrder(deps.orders, principal, orderId);
    checkVersion(order);
    const cancelled =
      canTransition(order.status, 'cancelled') &&
      (await deps.orders.transition(orderId, transition(order.status, 'cancelled'), {
        expectedVersion: order.version,
        actor: principal.username,
      }));
    if (!cancelled) {
      // Not cancellable, or it moved on since it was read: answer for the order as it is now.
      const now = (await deps.orders.findOrder(orderId))!;
      checkVersion(now);
      throw invalidTransition(now.status, 'cancelled');
    }
    deps.metrics.transitions.inc({ from: order.status, to: 'cancelled' });
    return orderFor(principal, (await deps.orders.findOrder(orderId))!);
  };
}
