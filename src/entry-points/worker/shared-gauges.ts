import type { Queue } from 'bullmq';
import type { OrderRepository } from '../../data-access/order-repository';
import type { Metrics } from '../../lib/metrics';
import type { EventOutbox } from '../../data-access/event-outbox';
import type { WebhookRepository } from '../../data-access/webhook-repository';

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

/**
 * Gauges read from shared state (the queue, the orders table). Only the worker role exports
 * them, so a dashboard summing over pods does not count them once per api replica.
 */
export function registerSharedGauges(deps: {
  metrics: Metrics;
  orders: Pick<OrderRepository, 'oldestPendingCreatedAt'>;
  events: Pick<EventOutbox, 'lag'>;
  queue: Queue;
  /** Absent in tests of the order gauges alone. */
  webhooks?: Pick<WebhookRepository, 'countEndpointsByStatus'>;
}): void {
  deps.metrics.gauge(
    'queue_jobs',
    'BullMQ jobs by queue and state.',
    ['queue', 'state'],
    async (g) => {
      const counts = await deps.queue.getJobCounts(...STATES);
      for (const state of STATES) g.set({ queue: deps.queue.name, state }, counts[state] ?? 0);
    },
  );
  deps.metrics.gauge(
    'orders_oldest_pending_age_seconds',
    'Age of the oldest order still pending (0 when none).',
    [],
    async (g) => {
      const oldest = await deps.orders.oldestPendingCreatedAt();
      g.set(oldest ? (Date.now() - oldest.getTime()) / 1000 : 0);
    },
  );
  // One query set per scrape for both gauges: the second reads what the first fetched.
  let lag: Promise<{ count: number; oldest?: Date }> | undefined;
  const readLag = () =>
    (lag ??= deps.events.lag().finally(() => setTimeout(() => (lag = undefined), 1000)));
  deps.metrics.gauge(
    'outbox_unpublished_events',
    'Order events written but not yet published by the relay.',
    [],
    async (g) => g.set((await readLag()).count),
  );
  deps.metrics.gauge(
    'outbox_oldest_unpublished_age_seconds',
    'Age of the oldest order event not yet published (0 when none).',
    [],
    async (g) => {
      const { oldest } = await readLag();
      g.set(oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0);
    },
  );
  const webhooks = deps.webhooks;
  if (!webhooks) return;
  deps.metrics.gauge(
    'webhook_endpoints',
    'Webhook endpoints by status (failing: a delivery gave up after its retries).',
    ['status'],
    async (g) => {
      const counts = await webhooks.countEndpointsByStatus();
      for (const [status, n] of Object.entries(counts)) g.set({ status }, n);
    },
  );
}
