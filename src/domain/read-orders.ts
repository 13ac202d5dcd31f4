import { AppError } from '../lib/app-error';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { OrderRepository } from '../data-access/order-repository';
import type { Order, OrderStatus } from './order';
import type { Principal } from './principal';

/** A customer asking for another customer's order gets 404, so ids cannot be enumerated. */
export async function findVisibleOrder(
  orders: OrderRepository,
  principal: Principal,
  orderId: string,
): Promise<Order> {
  const order = await orders.findOrder(orderId);
  if (!order || (principal.role === 'customer' && order.customer_id !== principal.customerId)) {
    throw new AppError('not-found', `No order ${orderId}.`);
  }
  return order;
}

/**
 * The order as this principal may see it: who changed its status is for managers only (a
 * customer would learn staff usernames, which the per-account login limit makes lockable).
 */
export function orderFor(principal: Principal, order: Order): Order {
  if (principal.role === 'manager') return order;
  return {
    ...order,
    status_history: order.status_history.map(({ status, at }) => ({ status, at })),
  };
}

export interface OrderListQuery {
  customer_id?: string;
  status?: OrderStatus;
  limit: number;
  cursor?: string;
}

export function createReadOrders(deps: { orders: OrderRepository }) {
  async function getOrder(principal: Principal, orderId: string): Promise<Order> {
    return orderFor(principal, await findVisibleOrder(deps.orders, principal, orderId));
  }

  async function listOrders(principal: Principal, query: OrderListQuery) {
    let customerId = query.customer_id;
    if (principal.role === 'customer') {
      if (customerId !== undefined && customerId !== principal.customerId) {
        throw new AppError('forbidden', 'Customers may only list their own orders.');
      }
      customerId = principal.customerId;
    }
    const after = query.cursor ? decodeCursor(query.cursor, 2) : undefined;
    const data = await deps.orders.listOrders({
      customerId,
      status: query.status,
      limit: query.limit,
      after: after && { createdAt: new Date(after[0]!), orderId: after[1]! },
    });
    const last = data.at(-1);
    const next_cursor =
      data.length === query.limit && last
        ? encodeCursor([last.created_at.toISOString(), last.order_id])
        : null;
    return { data: data.map((order) => orderFor(principal, order)), next_cursor };
  }

  return { getOrder, listOrders };
}
