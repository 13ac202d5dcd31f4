import type { ShutdownStep } from '../lib/shutdown';
import { createPasswordHasher, PasswordHasherOptions } from '../lib/password-hasher';
import { createLoginThrottle } from '../data-access/login-throttle';
import { createMemoryWindows } from '../data-access/memory-windows';
import { createRateLimitStore } from '../data-access/rate-limit-store';
import { createJwksVerifier } from '../data-access/jwks-verifier';
import { createIdempotencyLocks } from '../data-access/idempotency-locks';
import { closeRedis, createRedis } from '../data-access/redis';
import { createApiKeyRevocations } from '../data-access/api-key-revocations';
import { createApiKeyRepository } from '../data-access/api-key-repository';
import { createManageApiKeys } from '../domain/manage-api-keys';
import { createAuthentication } from '../domain/authentication';
import { createPlaceOrders } from '../domain/place-orders';
import { createReadOrders } from '../domain/read-orders';
import { createCancelOrder } from '../domain/cancel-order';
import { createRetryOrders } from '../domain/retry-orders';
import { createReadCustomers } from '../domain/read-customers';
import { createManageWebhooks } from '../domain/manage-webhooks';
import { createApp } from '../entry-points/api/app';
import { createRateLimits } from '../entry-points/api/middleware/rate-limit';
import { createEventFeed } from '../data-access/event-feed';
import { createStreamEvents } from '../domain/stream-events';
import { eventsRouter } from '../entry-points/api/routes/events-router';
import type { Core } from './core';

/** Failed authentications per client address are counted over this window. */
const AUTH_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Per account: short, so an attacker slows guessing but cannot lock the owner out for long. */
const ACCOUNT_FAILURE_WINDOW_SECONDS = 60;

export interface ApiOptions {
  /** Tests check every response against the OpenAPI document. */
  validateResponses?: boolean;
  /** Password-hashing threads and queue; tests of a flood shrink them. */
  hashing?: PasswordHasherOptions;
  /** JWKS re-fetch cooldown after a successful fetch; tests of key rotation shorten it. */
  jwksCooldownMs?: number;
}

/** The api role: authentication, the order and customer use cases, the Express app. */
export function composeApi(core: Core, options: ApiOptions) {
  const { config, logger, metrics, redis, repositories } = core;
  const prefix = config.redisPrefix;
  const hasher = createPasswordHasher(options.hashing);
  // Where the limits count while Redis fails: one per process, read by both.
  const memory = createMemoryWindows();
  const throttle = createLoginThrottle({
    redis,
    prefix,
    limits: {
      addressMax: config.rateLimit.authFailuresMax,
      addressWindowSeconds: AUTH_FAILURE_WINDOW_SECONDS,
      accountMax: config.rateLimit.accountFailuresMax,
      accountWindowSeconds: ACCOUNT_FAILURE_WINDOW_SECONDS,
    },
    memory,
    onFallback: (err) => {
      metrics.rateLimitFallbacks.inc({ limiter: 'login-failures' });
      logger.debug('login throttle store failed; counting in memory', { error: err.message });
    },
  });
  // A subscribed connection waits like a worker's: it queues its SUBSCRIBE until connected and
  // retries forever; while it is down, cached keys are trusted for under a second only.
  const revocationsConnection = createRedis(config.redisUrl, 'worker', logger);
  const revocations = createApiKeyRevocations({
    publisher: redis,
    subscriber: revocationsConnection,
    prefix,
    logger,
  });
  const apiKeys = createApiKeyRepository(core.db, revocations, {
    onTouchFailed: (err) => logger.debug('api key last use not recorded', { error: err.message }),
    onRetry: (reason) => metrics.transactionRetries.inc({ reason }),
  });
  const auth = createAuthentication({
    users: repositories.users,
    apiKeys,
    jwt: config.jwt,
    verifyExternalToken: createJwksVerifier({ ...config.jwt, cooldownMs: options.jwksCooldownMs }),
    hasher,
    throttle,
    onRateLimited: () => metrics.rateLimited.inc(),
    onApiKey: (result) => metrics.apiKeyAuthentications.inc({ result }),
  });
  const rateLimits = createRateLimits({
    store: createRateLimitStore({
      redis,
      memory,
      onFallback: (limiter, err) => {
        metrics.rateLimitFallbacks.inc({ limiter });
        logger.debug('rate limit store failed; counting in memory', {
          limiter,
          error: err.message,
        });
      },
    }),
    auth,
    throttle,
    prefix,
    max: config.rateLimit.max,
    windowSeconds: config.rateLimit.windowSeconds,
    metrics,
  });
  const placeOrders = createPlaceOrders({
    orders: repositories.orders,
    customers: repositories.customers,
    idempotency: repositories.idempotency,
    locks: createIdempotencyLocks(redis, prefix),
    queue: core.orderQueue,
    metrics,
    logger,
  });

  const feed = createEventFeed(redis, prefix, logger);
  const streamEvents = createStreamEvents({
    outbox: repositories.events,
    feed,
    orders: repositories.orders,
    maxPerPrincipal: config.eventStreams.maxPerUser,
  });
  metrics.gauge(
    'event_streams_open',
    'Event streams (SSE) open in this api process.',
    [],
    async (g) => g.set(streamEvents.openCount()),
  );
  const events = eventsRouter({
    streamEvents,
    heartbeatMs: config.eventStreams.heartbeatSeconds * 1000,
  });

  const app = createApp({
    trustProxy: config.trustProxy,
    logger,
    metrics,
    readiness: core.readiness,
    auth,
    placeOrders,
    readOrders: createReadOrders({ orders: repositories.orders }),
    cancelOrder: createCancelOrder({ orders: repositories.orders, metrics }),
    retryOrders: createRetryOrders({
      orders: repositories.orders,
      queue: core.orderQueue,
      metrics,
      logger,
    }),
    readCustomers: createReadCustomers({ customers: repositories.customers }),
    manageApiKeys: createManageApiKeys({ apiKeys, logger }),
    eventsRouter: events.router,
    manageWebhooks: createManageWebhooks({
      webhooks: repositories.webhooks,
      guard: core.webhooks.guard,
      queue: core.webhooks.queue,
      secretGraceMs: config.webhooks.secretGraceMs,
    }),
    rateLimits,
    corsOrigins: config.corsOrigins,
    validateResponses: options.validateResponses,
  });

  const shutdownSteps: ShutdownStep[] = [
    { name: 'password hashing', run: () => hasher.close() },
    {
      name: 'api key revocations redis',
      run: async () => {
        revocations.stop();
        await closeRedis(revocationsConnection);
      },
    },
    { name: 'events subscriber', run: () => feed.close() },
  ];
  // Before the HTTP drain, which waits for every response to end: a stream never would.
  const drainSteps: ShutdownStep[] = [{ name: 'event streams', run: async () => events.endAll() }];
  return { app, auth, hasher, useCases: { placeOrders }, shutdownSteps, drainSteps };
}

export type ApiComposition = ReturnType<typeof composeApi>;
