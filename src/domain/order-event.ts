import type { OrderStatus } from './order';

/** What webhooks (and the event stream) publish: one per order status change. */
export const ORDER_EVENT_TYPES = [
  'order.created',
  'order.processing',
  'order.completed',
  'order.cancelled',
  'order.failed',
] as const;

export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

/** Written by the outbox in the transaction of the status change; the relay publishes it once. */
export interface OrderEvent {
  /** Unique across events; receivers de-duplicate by it. */
  id: string;
  type: OrderEventType;
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  version: number;
  created_at: Date | string;
}
