import type { ShutdownStep } from '../lib/shutdown';
import { closeRedis, createRedis } from '../data-access/redis';
import { createProcessOrders, Fulfil } from '../domain/process-order';
import { createReconcileOrders } from '../domain/reconcile-orders';
import { createPurgeOrders } from '../domain/purge-orders';
import { createOrderWorker } from '../entry-points/worker/order-worker';
import { createWebhookWorker } from '../entry-points/worker/webhook-worker';
import { createDispatchEvents } from '../domain/dispatch-event';
import { createDeliverWebhook } from '../domain/deliver-webhook';
import { sendWebhook } from '../data-access/webhook-sender';
import { createMaintenance } from '../entry-points/worker/maintenance';
import { registerSharedGauges } from '../entry-points/worker/shared-gauges';
import { createEventPublisher } from '../data-access/event-publisher';
import { createRelayEvents } from '../domain/relay-events';
import { createEventRelay } from '../entry-points/worker/event-relay';
import { createEventWorker } from '../entry-points/worker/event-worker';
import type { Core } from './core';

export interface WorkerOptions {
  fulfil?: Fulfil;
  workerConcurrency?: number;
  /** Job lock and stalled-check interval; tests of a worker dying mid-job shorten it. */
  workerLockMs?: number;
  /** How old an unfinished order must be before the reconciler enqueues it again. */
  reconcileStaleAfterMs?: number;
  /** Pause of the outbox relay when the outbox is empty; tests shorten it. */
  relayPollMs?: number;
  /**
   * False for a second service a test runs on the same database under another Redis prefix:
   * its relay would take the outbox's events to its own queues.
   */
  relay?: boolean;
}

/**
 * The worker role: its own Redis connection (BullMQ blocks on it), order processing, the
 * reconciler and the retention purge. `start` builds and runs the BullMQ workers.
 */
export function composeWorker(core: Core, options: WorkerOptions) {
  const { config, logger, metrics, repositories } = core;
  const connection = createRedis(config.redisUrl, 'worker', logger);
  const processOrders = createProcessOrders({
    orders: repositories.orders,
    metrics,
    logger,
    fulfil: options.fulfil,
  });
  const reconcileOrders = createReconcileOrders({
    orders: repositories.orders,
    queue: core.orderQueue,
    logger,
    staleAfterMs: options.reconcileStaleAfterMs,
  });
  const purgeOrders = createPurgeOrders({
    orders: repositories.orders,
    idempotency: repositories.idempotency,
    events: repositories.events,
    retentionDays: config.orderRetentionDays,
    eventRetentionHours: config.eventRetentionHours,
    logger,
  });
  // On the worker connection: in an outage the relay waits for Redis instead of failing rounds.
  const publisher = createEventPublisher(connection, config.redisPrefix, logger);
  const relayEvents = createRelayEvents({
    outbox: repositories.events,
    publish: publisher.publish,
  });
  const relay = createEventRelay({
    redis: core.redis,
    prefix: config.redisPrefix,
    relayEvents,
    logger,
    pollMs: options.relayPollMs,
  });

  // The order-events worker's handler: each relay round's events to the webhook endpoints.
  const dispatchEvents = createDispatchEvents({
    webhooks: repositories.webhooks,
    orders: repositories.orders,
    queue: core.webhooks.queue,
    logger,
  });
  const deliverWebhook = createDeliverWebhook({
    webhooks: repositories.webhooks,
    guard: core.webhooks.guard,
    send: sendWebhook,
    timeoutMs: core.webhooks.timeoutMs,
    metrics,
    logger,
  });

  /** The BullMQ workers, not yet running; the shared gauges are exported from then on. */
  function createWorkers() {
    const workers = {
      orderWorker: createOrderWorker({
        connection,
        prefix: config.redisPrefix,
        database: config.database.name,
        processOrders,
        metrics,
        logger,
        concurrency: options.workerConcurrency,
        lockMs: options.workerLockMs,
      }),
      eventWorker: createEventWorker({
        connection,
        prefix: config.redisPrefix,
        logger,
        handle: async (events) => void (await dispatchEvents(events)),
      }),
      webhookWorker: createWebhookWorker({
        connection,
        prefix: config.redisPrefix,
        deliverWebhook,
        retry: core.webhooks.retry,
        concurrency: config.webhooks.concurrency,
        logger,
      }),
      maintenance: createMaintenance({
        connection,
        prefix: config.redisPrefix,
        reconcileOrders,
        purgeOrders,
        logger,
      }),
    };
    registerSharedGauges({
      metrics,
      orders: repositories.orders,
      events: repositories.events,
      queue: core.orderQueue.queue,
      webhooks: repositories.webhooks,
    });
    return workers;
  }

  let running: ReturnType<typeof createWorkers> | undefined;
  const shutdownSteps: ShutdownStep[] = [
    // Its round's events are numbered in MySQL: one cut off here is published by the next relay.
    { name: 'event relay', run: () => relay.close() },
    // A job still running at the deadline keeps its lock until it expires; BullMQ then hands it
    // to another worker as stalled, so it is retried, not lost.
    {
      name: 'workers',
      run: () =>
        Promise.all([
          running?.orderWorker.close(),
          running?.eventWorker.close(),
          running?.webhookWorker.close(),
          running?.maintenance.worker.close(),
        ]),
    },
    { name: 'worker redis', run: () => closeRedis(connection) },
    // After its connection, for the same reason as the order queue (core.ts).
    { name: 'worker queues', run: async () => running?.maintenance.queue.close() },
    { name: 'events queue', run: () => publisher.close() },
  ];

  return {
    connection,
    useCases: {
      processOrders,
      reconcileOrders,
      purgeOrders,
      relayEvents,
      dispatchEvents,
      deliverWebhook,
    },
    publisher,
    createWorkers,
    /** Runs the order worker and schedules maintenance; resolves once scheduled. */
    async start(): Promise<void> {
      running = createWorkers();
      void running.orderWorker.run();
      void running.eventWorker.run();
      void running.webhookWorker.run();
      await running.maintenance.start();
      if (options.relay !== false) relay.start();
    },
    shutdownSteps,
  };
}

export type WorkerComposition = ReturnType<typeof composeWorker>;
