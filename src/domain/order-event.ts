import type { OrderStatus } from './order';

/** The event types of the contract (webhooks and streams). */
export const EVENT_TYPES = [
  'order.created',
  'order.processing',
  'order.completed',
  'order.cancelled',
  'order.failed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One status change as published: the outbox row, numbered by the relay. */
export interface OrderEvent {
  id: string;
  type: EventType;
  /** Assigned by the relay when it publishes; streams resume by it. */
  sequence: number;
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  version: number;
  /** A Date where it is written; an ISO string once it has been through a job or a message. */
  created_at: Date | string;
}

/**
 * The event a move to `to` emits. A retry (failed → pending) emits none: the contract has no
 * type for it, and `order.created` would announce an order twice. Its next step
 * (`order.processing`, at a version two or more above the `order.failed`) tells a consumer.
 */
export function eventTypeOf(to: OrderStatus): EventType | undefined {
  return to === 'pending' ? undefined : `order.${to}`;
}
