import { AppError } from '../lib/app-error';
import { decodeCursor, encodeCursor } from '../lib/cursor';
import type { WebhookRepository } from '../data-access/webhook-repository';
import type { WebhookQueue } from '../data-access/webhook-queue';
import { AddressGuard, RefusedTarget } from '../data-access/webhook-address-guard';
import type { EventType } from './order-event';
import type { Principal } from './principal';
import {
  endpointView,
  generateEndpointId,
  generateSecret,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
} from './webhook';

export interface NewEndpoint {
  url: string;
  events: EventType[];
  customer_id?: string;
}

function assertManager(principal: Principal): void {
  if (principal.role !== 'manager') {
    throw new AppError('forbidden', 'Only managers may manage webhooks.');
  }
}

function deliveryView(delivery: WebhookDelivery, attempts: WebhookAttempt[]) {
  return {
    id: delivery.delivery_id,
    event_id: delivery.event_id,
    event_type: delivery.event_type,
    status: delivery.status,
    created_at: delivery.created_at,
    updated_at: delivery.updated_at,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      status_code: a.status_code,
      latency_ms: a.latency_ms,
      error: a.error,
      response_excerpt: a.response_excerpt,
      started_at: a.started_at,
      finished_at: a.finished_at,
    })),
  };
}

/** The managers' side of webhooks: endpoints, their secrets, deliveries and redeliveries. */
export function createManageWebhooks(deps: {
  webhooks: WebhookRepository;
  guard: AddressGuard;
  queue: Pick<WebhookQueue, 'enqueueRedelivery'>;
  /** How long the previous secret stays valid after a rotation. */
  secretGraceMs: number;
}) {
  async function visibleEndpoint(principal: Principal, id: string): Promise<WebhookEndpoint> {
    assertManager(principal);
    const endpoint = await deps.webhooks.findEndpoint(id);
    if (!endpoint) throw new AppError('not-found', `No webhook endpoint ${id}.`);
    return endpoint;
  }

  /** The URL is checked now and again before every attempt (its DNS may change). */
  async function createEndpoint(principal: Principal, input: NewEndpoint) {
    assertManager(principal);
    try {
      await deps.guard.checkRegistration(input.url);
    } catch (err) {
      if (!(err instanceof RefusedTarget)) throw err;
      throw new AppError('validation', `The request is invalid: /url ${err.message}.`, {
        errors: [{ path: '/url', message: err.message }],
      });
    }
    const now = new Date();
    const endpoint: WebhookEndpoint = {
      endpoint_id: generateEndpointId(),
      url: input.url,
      events: [...new Set(input.events)],
      customer_id: input.customer_id ?? null,
      secret: generateSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      status: 'active',
      failing_since: null,
      created_at: now,
      updated_at: now,
    };
    await deps.webhooks.insertEndpoint(endpoint);
    return { ...endpointView(endpoint), secret: endpoint.secret };
  }

  async function listEndpoints(principal: Principal) {
    assertManager(principal);
    return { data: (await deps.webhooks.listEndpoints()).map(endpointView) };
  }

  async function getEndpoint(principal: Principal, id: string) {
    return endpointView(await visibleEndpoint(principal, id));
  }

  async function deleteEndpoint(principal: Principal, id: string): Promise<void> {
    assertManager(principal);
    if (!(await deps.webhooks.deleteEndpoint(id))) {
      throw new AppError('not-found', `No webhook endpoint ${id}.`);
    }
  }

  /** A new secret, shown once; the one it replaces still verifies until the grace period ends. */
  async function rotateSecret(principal: Principal, id: string) {
    await visibleEndpoint(principal, id);
    const now = new Date();
    const secret = generateSecret();
    await deps.webhooks.rotateSecret(id, secret, new Date(now.getTime() + deps.secretGraceMs), now);
    const rotated = (await deps.webhooks.findEndpoint(id))!;
    return { ...endpointView(rotated), secret };
  }

  async function listDeliveries(
    principal: Principal,
    id: string,
    query: { limit: number; cursor?: string },
  ) {
    await visibleEndpoint(principal, id);
    const after = query.cursor ? decodeCursor(query.cursor, 2) : undefined;
    const deliveries = await deps.webhooks.listDeliveries(
      id,
      query.limit,
      after && { createdAt: new Date(after[0]!), deliveryId: after[1]! },
    );
    const attempts = await deps.webhooks.attemptsOf(deliveries.map((d) => d.delivery_id));
    const last = deliveries.at(-1);
    return {
      data: deliveries.map((d) =>
        deliveryView(
          d,
          attempts.filter((a) => a.delivery_id === d.delivery_id),
        ),
      ),
      next_cursor:
        deliveries.length === query.limit && last
          ? encodeCursor([last.created_at.toISOString(), last.delivery_id])
          : null,
    };
  }

  /** One more attempt of the same body, now; it adds to the delivery's attempts. */
  async function redeliver(principal: Principal, id: string, deliveryId: string) {
    await visibleEndpoint(principal, id);
    const delivery = await deps.webhooks.findDelivery(deliveryId);
    if (!delivery || delivery.endpoint_id !== id) {
      throw new AppError('not-found', `No delivery ${deliveryId} of webhook endpoint ${id}.`);
    }
    await deps.queue.enqueueRedelivery(deliveryId);
    return deliveryView(delivery, await deps.webhooks.attemptsOf([deliveryId]));
  }

  return {
    createEndpoint,
    listEndpoints,
    getEndpoint,
    deleteEndpoint,
    rotateSecret,
    listDeliveries,
    redeliver,
  };
}

export type ManageWebhooks = ReturnType<typeof createManageWebhooks>;
