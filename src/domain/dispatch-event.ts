import { createHash } from 'node:crypto';
import type { Logger } from '../lib/logger';
import type { OrderRepository } from '../data-access/order-repository';
import type { WebhookRepository } from '../data-access/webhook-repository';
import type { WebhookQueue } from '../data-access/webhook-queue';
import type { OrderEvent } from './order-event';
import type { WebhookDelivery, WebhookEndpoint } from './webhook';

/**
 * One id per (event, endpoint): the BullMQ job id and the delivery row's key, so an event the
 * relay publishes twice is delivered once. Hashed because event ids may hold `:`, which BullMQ
 * refuses in custom job ids.
 */
export function deliveryIdOf(eventId: string, endpointId: string): string {
  return (
    'whd_' + createHash('sha256').update(`${eventId}\n${endpointId}`).digest('hex').slice(0, 40)
  );
}

export function endpointWants(endpoint: WebhookEndpoint, event: OrderEvent): boolean {
  return (
    endpoint.events.includes(event.type) &&
    (endpoint.customer_id === null || endpoint.customer_id === event.customer_id)
  );
}

/**
 * Called by the worker for each relay round's events: records one delivery per matching
 * endpoint with the body every attempt will send, then enqueues them. The endpoints are read
 * once per round, so events with no endpoint cost no query of their own. The body carries the
 * order as `GET /orders/{id}` shows it to a manager, read now (an order purged meanwhile is
 * skipped).
 */
export function createDispatchEvents(deps: {
  webhooks: WebhookRepository;
  orders: Pick<OrderRepository, 'findOrder'>;
  queue: Pick<WebhookQueue, 'enqueueDeliveries'>;
  logger: Logger;
}) {
  async function dispatch(event: OrderEvent, endpoints: WebhookEndpoint[]): Promise<string[]> {
    if (endpoints.length === 0) return [];
    const order = await deps.orders.findOrder(event.order_id);
    if (!order) {
      deps.logger.warn('webhook event names an order that is gone; not delivered', {
        event_id: event.id,
        order_id: event.order_id,
      });
      return [];
    }
    const createdAt = new Date(event.created_at);
    const payload = JSON.stringify({
      id: event.id,
      type: event.type,
      created_at: createdAt.toISOString(),
      data: { order },
    });
    const now = new Date();
    const rows: WebhookDelivery[] = endpoints.map((endpoint) => ({
      delivery_id: deliveryIdOf(event.id, endpoint.endpoint_id),
      endpoint_id: endpoint.endpoint_id,
      event_id: event.id,
      event_type: event.type,
      payload,
      status: 'pending',
      attempts: 0,
      created_at: now,
      updated_at: now,
    }));
    await deps.webhooks.insertDeliveries(rows);
    const ids = rows.map((r) => r.delivery_id);
    await deps.queue.enqueueDeliveries(ids);
    return ids;
  }

  return async function dispatchEvents(events: OrderEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const endpoints = await deps.webhooks.listEndpoints();
    if (endpoints.length === 0) return [];
    const ids: string[] = [];
    for (const event of events) {
      ids.push(
        ...(await dispatch(
          event,
          endpoints.filter((e) => endpointWants(e, event)),
        )),
      );
    }
    return ids;
  };
}

export type DispatchEvents = ReturnType<typeof createDispatchEvents>;
