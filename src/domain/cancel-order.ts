import { AppError } from '../lib/app-error';
import type { Metrics } from '../lib/metrics';
import type { OrderRepository } from '../data-access/order-repository';
import type { Order } from './order';
import type { Principal } from './principal';
import { findVisibleOrder } from './read-orders';

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
    if (
      order.status !== 'pending' ||
      !(await deps.orders.transition(orderId, 'pending', 'cancelled', order.version))
    ) {
      const now = (await deps.orders.findOrder(orderId))!;
      checkVersion(now);
      throw new AppError(
        'invalid-transition',
        `An order that is ${now.status} cannot be cancelled.`,
      );
    }
    deps.metrics.transitions.inc({ from: 'pending', to: 'cancelled' });
    return (await deps.orders.findOrder(orderId))!;
  };
}
