import type { Config } from '../config';
import type { Logger } from '../lib/logger';
import type { ShutdownStep } from '../lib/shutdown';
import { buildInfo } from '../lib/build-info';
import { createMetrics } from '../lib/metrics';
import { createReadiness } from '../lib/readiness';
import { createSecretBox } from '../lib/secret-box';
import { createDb, createMysqlProbe } from '../data-access/db';
import { closeRedis, createRedis } from '../data-access/redis';
import { checkMysqlSettings, checkRedisSettings } from '../data-access/durability-settings';
import { createOrderRepository } from '../data-access/order-repository';
import { createCustomerRepository } from '../data-access/customer-repository';
import { createIdempotencyRepository } from '../data-access/idempotency-repository';
import { createUserRepository } from '../data-access/user-repository';
import { createOrderQueue } from '../data-access/order-queue';
import { createEventOutbox } from '../data-access/event-outbox';
import { createWebhookRepository } from '../data-access/webhook-repository';
import { createWebhookQueue } from '../data-access/webhook-queue';
import { createAddressGuard } from '../data-access/webhook-address-guard';
import { attemptsWithin, DEFAULT_RETRY, RetrySchedule } from '../domain/webhook-retry';

export interface CoreOptions {
  /** First retry delay of an order job (doubling each attempt); tests shorten it. */
  jobBackoffMs?: number;
  /** Pause between readiness refreshes; tests of outages shorten it. */
  readinessIntervalMs?: number;
  /** Webhook retry delays; tests shorten them. */
  webhookRetry?: Partial<RetrySchedule>;
  /** Webhook attempt timeout in ms (WEBHOOK_TIMEOUT_SECONDS otherwise); tests shorten it. */
  webhookTimeoutMs?: number;
}

/**
 * What every serving role shares: metrics, the MySQL pool and its readiness probe, the
 * producer Redis connection, the repositories and the order queue (the api enqueues, the
 * worker's reconciler re-enqueues).
 */
export function composeCore(config: Readonly<Config>, logger: Logger, options: CoreOptions) {
  const metrics = createMetrics(buildInfo(config.gitCommit));
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'producer', logger);
  const retry = { onRetry: (reason: string) => metrics.transactionRetries.inc({ reason }) };
  const repositories = {
    orders: createOrderRepository(db, retry),
    events: createEventOutbox(db, retry),
    customers: createCustomerRepository(db),
    idempotency: createIdempotencyRepository(db),
    users: createUserRepository(db),
    webhooks: createWebhookRepository(db, createSecretBox(config.webhooks.secretKey)),
  };
  const orderQueue = createOrderQueue(redis, config.redisPrefix, logger, options.jobBackoffMs);
  const webhookRetry: RetrySchedule = {
    ...DEFAULT_RETRY,
    maxAgeMs: config.webhooks.retryMs,
    ...options.webhookRetry,
  };
  const webhooks = {
    retry: webhookRetry,
    timeoutMs: options.webhookTimeoutMs ?? config.webhooks.timeoutMs,
    guard: createAddressGuard({
      allowHttp: config.webhooks.allowHttp,
      allowed: config.webhooks.allowedHosts,
    }),
    queue: createWebhookQueue(redis, config.redisPrefix, logger, attemptsWithin(webhookRetry)),
  };
  const mysqlProbe = createMysqlProbe(config.databaseUrl);
  const readiness = createReadiness(
    { mysql: mysqlProbe.check, redis: () => redis.ping() },
    { intervalMs: options.readinessIntervalMs },
  );

  /**
   * Reads the durability settings of MySQL and Redis, logs a warning for each wrong one and
   * sets dependency_setting_ok. Never fails start-up: a wrong setting is a risk, not an outage.
   */
  async function checkDurability(): Promise<void> {
    const checks = await Promise.all([
      checkMysqlSettings(db).catch(() => []),
      checkRedisSettings(redis).catch(() => []),
    ]);
    for (const c of checks.flat()) {
      metrics.durabilitySetting.set({ dependency: c.dependency, setting: c.setting }, c.ok ? 1 : 0);
      if (!c.ok) {
        logger.warn(`${c.dependency} setting risks data loss`, {
          setting: c.setting,
          actual: c.actual,
          expected: c.expected,
          risk: c.risk,
        });
      }
    }
  }

  /**
   * Closed after the role's own steps. Redis before the queue: BullMQ settles a connection
   * attempt still in flight only while the queue listens, and logs its error then.
   */
  const shutdownSteps: ShutdownStep[] = [
    {
      name: 'probes',
      run: async () => {
        await readiness.stop();
        await mysqlProbe.close();
      },
    },
    { name: 'redis', run: () => closeRedis(redis) },
    { name: 'queues', run: () => Promise.all([orderQueue.close(), webhooks.queue.close()]) },
    { name: 'mysql', run: () => db.destroy() },
  ];

  return {
    config,
    logger,
    metrics,
    db,
    redis,
    repositories,
    orderQueue,
    webhooks,
    readiness,
    checkDurability,
    shutdownSteps,
  };
}

export type Core = ReturnType<typeof composeCore>;
