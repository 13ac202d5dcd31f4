import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { WebhookRepository } from '../data-access/webhook-repository';
import { AddressGuard, RefusedTarget } from '../data-access/webhook-address-guard';
import type { SendResult } from '../data-access/webhook-sender';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signatureHeader, signingSecrets } from './webhook';

export type Send = (
  target: Awaited<ReturnType<AddressGuard['check']>>,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<SendResult>;

type AttemptResult = Omit<SendResult, 'outcome'> & { outcome: SendResult['outcome'] | 'refused' };

export type AttemptOutcome = AttemptResult['outcome'] | 'skipped';

/** Thrown for an attempt that failed; the worker retries the job with backoff. */
export class DeliveryFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeliveryFailed';
  }
}

/**
 * One attempt of one delivery: re-check the URL (DNS rebinding), sign with the current (and,
 * in its grace period, the previous) secret, POST to the checked address, record the attempt.
 */
export function createDeliverWebhook(deps: {
  webhooks: WebhookRepository;
  guard: AddressGuard;
  send: Send;
  timeoutMs: number;
  metrics: Metrics;
  logger: Logger;
}) {
  async function deliver(deliveryId: string, redeliver: boolean): Promise<AttemptOutcome> {
    const delivery = await deps.webhooks.findDelivery(deliveryId);
    // Deleted with its endpoint, or done already (a job enqueued again after its first ran).
    if (!delivery || (!redeliver && delivery.status !== 'pending')) return 'skipped';
    const endpoint = await deps.webhooks.findEndpoint(delivery.endpoint_id);
    if (!endpoint) return 'skipped';

    const startedAt = new Date();
    let result: AttemptResult;
    try {
      const target = await deps.guard.check(endpoint.url);
      const headers = {
        [SIGNATURE_HEADER]: signatureHeader(
          signingSecrets(endpoint, startedAt),
          delivery.payload,
          Math.floor(startedAt.getTime() / 1000),
        ),
        [EVENT_ID_HEADER]: delivery.event_id,
      };
      result = await deps.send(target, headers, delivery.payload, deps.timeoutMs);
    } catch (err) {
      if (!(err instanceof RefusedTarget)) throw err;
      result = {
        statusCode: null,
        latencyMs: 0,
        error: `refused: the URL ${err.message}`,
        excerpt: null,
        outcome: 'refused',
      };
    }
    const ok = result.outcome === 'success';
    const finishedAt = new Date();
    const attempt = await deps.webhooks.recordAttempt(
      {
        delivery_id: deliveryId,
        status_code: result.statusCode,
        latency_ms: result.latencyMs,
        error: result.error?.slice(0, 1024) ?? null,
        response_excerpt: result.excerpt?.slice(0, 1024) ?? null,
        started_at: startedAt,
        finished_at: finishedAt,
      },
      ok ? 'succeeded' : 'pending',
    );
    deps.metrics.webhookAttempts.inc({ outcome: result.outcome });
    deps.metrics.webhookDuration.observe({ outcome: result.outcome }, result.latencyMs / 1000);
    if (ok) {
      await deps.webhooks.setEndpointStatus(endpoint.endpoint_id, 'active', finishedAt);
      return 'success';
    }
    // The URL is in the endpoint list already; the secret and the body never go to logs.
    deps.logger.info('webhook attempt failed', {
      endpoint_id: endpoint.endpoint_id,
      delivery_id: deliveryId,
      attempt,
      outcome: result.outcome,
      error: result.error,
    });
    throw new DeliveryFailed(result.error ?? result.outcome);
  }

  /**
   * The last attempt failed: the delivery gives up and, after its retries (not a manager's
   * single redelivery), its endpoint is marked failing.
   */
  async function giveUp(deliveryId: string, markEndpoint: boolean): Promise<void> {
    const delivery = await deps.webhooks.findDelivery(deliveryId);
    if (!delivery) return;
    const now = new Date();
    await deps.webhooks.setDeliveryStatus(deliveryId, 'failed', now);
    if (!markEndpoint) return;
    await deps.webhooks.setEndpointStatus(delivery.endpoint_id, 'failing', now);
    deps.metrics.webhookDeliveriesFailed.inc();
    deps.logger.warn('webhook delivery gave up; endpoint marked failing', {
      endpoint_id: delivery.endpoint_id,
      delivery_id: deliveryId,
      attempts: delivery.attempts,
    });
  }

  return { deliver, giveUp };
}

export type DeliverWebhook = ReturnType<typeof createDeliverWebhook>;
