import { createHmac, randomBytes } from 'node:crypto';
import type { EventType } from './order-event';

export type EndpointStatus = 'active' | 'failing';
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** An endpoint as stored; `secret` never leaves the service after it was shown once. */
export interface WebhookEndpoint {
  endpoint_id: string;
  url: string;
  events: EventType[];
  customer_id: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  status: EndpointStatus;
  failing_since: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDelivery {
  delivery_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: EventType;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookAttempt {
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  started_at: Date;
  finished_at: Date;
}

export const SIGNATURE_HEADER = 'Order-Service-Signature';
export const EVENT_ID_HEADER = 'Order-Service-Event-Id';

/** 32 random bytes, prefixed like Stripe's so a leaked one is recognisable by secret scanners. */
export function generateSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64url');
}

export function generateEndpointId(): string {
  return 'we_' + randomBytes(12).toString('hex');
}

/** The secrets to sign with now: the current one, and the previous one during its grace period. */
export function signingSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  const previous =
    endpoint.previous_secret &&
    endpoint.previous_secret_expires_at &&
    endpoint.previous_secret_expires_at > now
      ? [endpoint.previous_secret]
      : [];
  return [endpoint.secret, ...previous];
}

/** `t=<unix>,v1=<hmac>[,v1=<hmac>]`: HMAC-SHA256 of "<t>.<body>" with each secret. */
export function signatureHeader(secrets: string[], body: string, unixSeconds: number): string {
  const signatures = secrets.map(
    (secret) => 'v1=' + createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex'),
  );
  return [`t=${unixSeconds}`, ...signatures].join(',');
}

/** The endpoint as the API shows it: without its secrets. */
export function endpointView(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.endpoint_id,
    url: endpoint.url,
    events: endpoint.events,
    customer_id: endpoint.customer_id,
    status: endpoint.status,
    failing_since: endpoint.failing_since,
    previous_secret_expires_at:
      endpoint.previous_secret_expires_at && endpoint.previous_secret_expires_at > new Date()
        ? endpoint.previous_secret_expires_at
        : null,
    created_at: endpoint.created_at,
    updated_at: endpoint.updated_at,
  };
}
