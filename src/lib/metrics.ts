import client from 'prom-client';
import { buildInfo, BuildInfo } from './build-info';
import { RETRY_REASONS } from '../data-access/mysql-errors';
import { ORDER_STATUSES, TRANSITIONS } from '../domain/order';
import { API_KEY_RESULTS } from '../domain/api-key';

const WEBHOOK_OUTCOMES = ['success', 'http_error', 'redirect', 'timeout', 'network', 'refused'];

/**
 * One registry per process (tests build their own). Labels are bounded: routes are templates,
 * never raw paths, ids or customers.
 */
export function createMetrics(build: BuildInfo = buildInfo()) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  new client.Gauge({
    name: 'order_service_build_info',
    help: 'Always 1; the labels say which version and commit this process runs.',
    labelNames: ['version', 'commit'] as const,
    registers,
  }).set({ version: build.version, commit: build.commit }, 1);

  const metrics = {
    registry,
    httpRequests: new client.Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers,
    }),
    httpDuration: new client.Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    ordersCreated: new client.Counter({
      name: 'orders_created_total',
      help: 'Orders accepted and stored.',
      registers,
    }),
    transitions: new client.Counter({
      name: 'order_status_transitions_total',
      help: 'Order status transitions.',
      labelNames: ['from', 'to'] as const,
      registers,
    }),
    processingDuration: new client.Histogram({
      name: 'order_processing_duration_seconds',
      help: 'Time from order creation to completion.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers,
    }),
    jobDuration: new client.Histogram({
      name: 'order_job_duration_seconds',
      help: 'Time the worker spends on one order job, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    jobsMissing: new client.Counter({
      name: 'order_jobs_missing_total',
      help: 'Orders named by order jobs but not in this database (a deployment sharing the Redis prefix?).',
      registers,
    }),
    idempotencyReplays: new client.Counter({
      name: 'idempotency_replays_total',
      help: 'Responses replayed for a repeated Idempotency-Key.',
      registers,
    }),
    rateLimited: new client.Counter({
      name: 'rate_limited_requests_total',
      help: 'Requests refused with 429 by the rate limiter.',
      registers,
    }),
    rateLimitFallbacks: new client.Counter({
      name: 'rate_limit_store_fallbacks_total',
      help: 'Rate-limit decisions made from per-process memory because Redis failed.',
      labelNames: ['limiter'] as const,
      registers,
    }),
    authFailures: new client.Counter({
      name: 'auth_failures_total',
      help: 'Failed authentications by method.',
      labelNames: ['method'] as const,
      registers,
    }),
    apiKeyAuthentications: new client.Counter({
      name: 'api_key_authentications_total',
      help: 'Requests that presented an API key, by result (ok, invalid, expired, revoked).',
      labelNames: ['result'] as const,
      registers,
    }),
    transactionRetries: new client.Counter({
      name: 'db_transaction_retries_total',
      help: 'Transactions run again after a Galera certification conflict or lock wait.',
      labelNames: ['reason'] as const,
      registers,
    }),
    durabilitySetting: new client.Gauge({
      name: 'dependency_setting_ok',
      help: 'Whether a durability setting of MySQL or Redis is as the service needs it (1) or not (0), read at start-up.',
      labelNames: ['dependency', 'setting'] as const,
      registers,
    }),
    webhookAttempts: new client.Counter({
      name: 'webhook_delivery_attempts_total',
      help: 'Webhook delivery attempts by outcome (success, http_error, redirect, timeout, network, refused).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    webhookDuration: new client.Histogram({
      name: 'webhook_delivery_duration_seconds',
      help: 'Latency of one webhook delivery attempt, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    webhookDeliveriesFailed: new client.Counter({
      name: 'webhook_deliveries_failed_total',
      help: 'Webhook deliveries that gave up after their retries; each marks its endpoint failing.',
      registers,
    }),
    /** Gauges read at scrape time; those over shared state are registered by one role only. */
    gauge(
      name: string,
      help: string,
      labelNames: string[],
      collect: (g: client.Gauge) => Promise<void>,
    ) {
      return new client.Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          // A dependency that is down must not fail the whole scrape: keep the last value.
          await collect(this).catch(() => undefined);
        },
      });
    },
  };

  // Known label values start at 0, so the first failure shows as an increase (a series born
  // at 1 is invisible to rate() and increase()) and panels show 0 rather than "no data".
  for (const from of ORDER_STATUSES) {
    for (const to of TRANSITIONS[from]) metrics.transitions.inc({ from, to }, 0);
  }
  for (const method of ['basic', 'bearer', 'api_key', 'none']) {
    metrics.authFailures.inc({ method }, 0);
  }
  for (const result of API_KEY_RESULTS) metrics.apiKeyAuthentications.inc({ result }, 0);
  for (const reason of RETRY_REASONS) metrics.transactionRetries.inc({ reason }, 0);
  for (const outcome of WEBHOOK_OUTCOMES) metrics.webhookAttempts.inc({ outcome }, 0);
  metrics.webhookDeliveriesFailed.inc(0);
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
