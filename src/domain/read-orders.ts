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

export interface OrderListQuery {
  customer_id?: string;
  status?: OrderStatus;
  limit: number;
  cursor?: string;
}

export function createReadOrders(deps: { orders: OrderRepository }) {
  async function getOrder(principal: Principal, orderId: string): Promise<Order> {
    return findVisibleOrder(deps.orders, principal, orderId);
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
    return { data, next_cursor };
  }

  return { getOrder, listOrders };
}
