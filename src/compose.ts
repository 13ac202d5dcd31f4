import type { Worker } from 'bullmq';
import type { Config } from './config';
import type { Logger } from './lib/logger';
import { buildInfo } from './lib/build-info';
import { createMetrics, Metrics } from './lib/metrics';
import { createReadiness } from './lib/readiness';
import { registerRuntimeGauges } from './lib/runtime-gauges';
import { createDb, createMysqlProbe } from './data-access/db';
import { createRedis } from './data-access/redis';
import { checkMysqlSettings, checkRedisSettings } from './data-access/durability-settings';
import { createOrderRepository } from './data-access/order-repository';
import { createCustomerRepository } from './data-access/customer-repository';
import { createIdempotencyRepository } from './data-access/idempotency-repository';
import { createIdempotencyLocks } from './data-access/idempotency-locks';
import { createUserRepository } from './data-access/user-repository';
import { createOrderQueue } from './data-access/order-queue';
import { createAuthentication } from './domain/authentication';
import { createPasswordHasher, PasswordHasherOptions } from './lib/password-hasher';
import { createLoginThrottle } from './data-access/login-throttle';
import { createPlaceOrders } from './domain/place-orders';
import { createReadOrders } from './domain/read-orders';
import { createCancelOrder } from './domain/cancel-order';
import { createReadCustomers } from './domain/read-customers';
import { createProcessOrder, Fulfil } from './domain/process-order';
import { createReconcileOrders } from './domain/reconcile-orders';
import { createPurgeOrders } from './domain/purge-orders';
import { createApp } from './entry-points/api/app';
import { createRateLimits } from './entry-points/api/middleware/rate-limit';
import { createOrderWorker } from './entry-points/worker/order-worker';
import { createMaintenance } from './entry-points/worker/maintenance';
import { registerSharedGauges } from './entry-points/worker/shared-gauges';

/** Failed authentications per client address are counted over this window. */
const AUTH_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Per account: short, so an attacker slows guessing but cannot lock the owner out for long. */
const ACCOUNT_FAILURE_WINDOW_SECONDS = 60;

export interface ComposeOptions {
  fulfil?: Fulfil;
  validateResponses?: boolean;
  workerConcurrency?: number;
  /** Job lock and stalled-check interval; tests of a worker dying mid-job shorten it. */
  workerLockMs?: number;
  /** First retry delay of an order job (doubling each attempt); tests shorten it. */
  jobBackoffMs?: number;
  /** How old an unfinished order must be before the reconciler enqueues it again. */
  reconcileStaleAfterMs?: number;
  /** Password-hashing threads and queue; tests of a flood shrink them. */
  hashing?: PasswordHasherOptions;
  /** JWKS re-fetch cooldown after a successful fetch; tests of key rotation shorten it. */
  jwksCooldownMs?: number;
  /** Pause between readiness refreshes; tests of outages shorten it. */
  readinessIntervalMs?: number;
}

/**
 * The composition root: every connection and use case is built here, once, from config.
 * main.ts starts what a role needs; tests build the same graph against their own database.
 */
export function compose(config: Readonly<Config>, logger: Logger, options: ComposeOptions = {}) {
  const prefix = config.redisPrefix;
  const metrics: Metrics = createMetrics(buildInfo(config.gitCommit));
  const db = createDb(config.databaseUrl);
  const redis = createRedis(config.redisUrl, 'producer', logger);
  const workerRedis = createRedis(config.redisUrl, 'worker', logger);
  const retry = {
    onRetry: (reason: string) => metrics.transactionRetries.inc({ reason }),
  };

  const orders = createOrderRepository(db, retry);
  const customers = createCustomerRepository(db);
  const idempotency = createIdempotencyRepository(db);
  const users = createUserRepository(db);
  const orderQueue = createOrderQueue(redis, prefix, logger, options.jobBackoffMs);

  const hasher = createPasswordHasher(options.hashing);
  const auth = createAuthentication({
    users,
    jwt: { ...config.jwt, jwksCooldownMs: options.jwksCooldownMs },
    hasher,
    throttle: createLoginThrottle({
      redis,
      prefix,
      limits: {
        addressMax: config.rateLimit.authFailuresMax,
        addressWindowSeconds: AUTH_FAILURE_WINDOW_SECONDS,
        accountMax: config.rateLimit.accountFailuresMax,
        accountWindowSeconds: ACCOUNT_FAILURE_WINDOW_SECONDS,
      },
      onFallback: (err) => {
        metrics.rateLimitFallbacks.inc({ limiter: 'login-failures' });
        logger.debug('login throttle store failed; counting in memory', { error: err.message });
      },
    }),
    onRateLimited: () => metrics.rateLimited.inc(),
  });
  const placeOrders = createPlaceOrders({
    orders,
    customers,
    idempotency,
    locks: createIdempotencyLocks(redis, prefix),
    queue: orderQueue,
    metrics,
    logger,
  });
  const processOrder = createProcessOrder({ orders, metrics, logger, fulfil: options.fulfil });
  const reconcileOrders = createReconcileOrders({
    orders,
    queue: orderQueue,
    logger,
    staleAfterMs: options.reconcileStaleAfterMs,
  });
  const purgeOrders = createPurgeOrders({
    orders,
    idempotency,
    retentionDays: config.orderRetentionDays,
    logger,
  });

  const mysqlProbe = createMysqlProbe(config.databaseUrl);
  const readiness = createReadiness(
    { mysql: mysqlProbe.check, redis: () => redis.ping() },
    { intervalMs: options.readinessIntervalMs },
  );
  registerRuntimeGauges({
    metrics,
    db,
    redis: { producer: redis, worker: workerRedis },
    readiness,
  });

  const app = createApp({
    trustProxy: config.trustProxy,
    logger,
    metrics,
    readiness,
    auth,
    placeOrders,
    readOrders: createReadOrders({ orders }),
    cancelOrder: createCancelOrder({ orders, metrics }),
    readCustomers: createReadCustomers({ customers }),
    rateLimits: createRateLimits({ redis, prefix, ...config.rateLimit, metrics, logger }),
    corsOrigins: config.corsOrigins,
    validateResponses: options.validateResponses,
  });

  /** Builds the BullMQ workers; only the worker and all roles call this. */
  function createWorkers(): {
    orderWorker: Worker;
    maintenance: ReturnType<typeof createMaintenance>;
  } {
    const connection = workerRedis;
    const workers = {
      orderWorker: createOrderWorker({
        connection,
        prefix,
        database: new URL(config.databaseUrl).pathname.slice(1),
        processOrder,
        metrics,
        logger,
        concurrency: options.workerConcurrency,
        lockMs: options.workerLockMs,
      }),
      maintenance: createMaintenance({ connection, prefix, reconcileOrders, purgeOrders, logger }),
    };
    registerSharedGauges({ metrics, db, queue: orderQueue.queue });
    return workers;
  }

  return {
    config,
    logger,
    metrics,
    db,
    redis,
    workerRedis,
    orderQueue,
    repositories: { orders, customers, idempotency, users },
    useCases: { placeOrders, processOrder, reconcileOrders, purgeOrders },
    auth,
    hasher,
    readiness,
    app,
    createWorkers,
    markStarted: readiness.markStarted,
    /**
     * Reads the durability settings of MySQL and Redis, logs a warning for each wrong one and
     * sets dependency_setting_ok. Never fails start-up: a wrong setting is a risk, not an outage.
     */
    async checkDurability(): Promise<void> {
      const checks = await Promise.all([
        checkMysqlSettings(db).catch(() => []),
        checkRedisSettings(redis).catch(() => []),
      ]);
      for (const c of checks.flat()) {
        metrics.durabilitySetting.set(
          { dependency: c.dependency, setting: c.setting },
          c.ok ? 1 : 0,
        );
        if (!c.ok) {
          logger.warn(`${c.dependency} setting risks data loss`, {
            setting: c.setting,
            actual: c.actual,
            expected: c.expected,
            risk: c.risk,
          });
        }
      }
    },
    /** Stops the readiness refreshes and closes the probe's MySQL connection. */
    async closeProbes(): Promise<void> {
      await readiness.stop();
      await mysqlProbe.close();
    },
  };
}

export type Services = ReturnType<typeof compose>;
