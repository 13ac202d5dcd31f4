import type { ShutdownStep } from '../lib/shutdown';
import { createPasswordHasher, PasswordHasherOptions } from '../lib/password-hasher';
import { createLoginThrottle } from '../data-access/login-throttle';
import { createMemoryWindows } from '../data-access/memory-windows';
import { createRateLimitStore } from '../data-access/rate-limit-store';
import { createJwksVerifier } from '../data-access/jwks-verifier';
import { createIdempotencyLocks } from '../data-access/idempotency-locks';
import { createAuthentication } from '../domain/authentication';
import { createPlaceOrders } from '../domain/place-orders';
import { createReadOrders } from '../domain/read-orders';
import { createCancelOrder } from '../domain/cancel-order';
import { createRetryOrders } from '../domain/retry-orders';
import { createReadCustomers } from '../domain/read-customers';
import { createManageWebhooks } from '../domain/manage-webhooks';
import { createApp } from '../entry-points/api/app';
import { createRateLimits } from '../entry-points/api/middleware/rate-limit';
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
  const auth = createAuthentication({
    users: repositories.users,
    jwt: config.jwt,
    verifyExternalToken: createJwksVerifier({ ...config.jwt, cooldownMs: options.jwksCooldownMs }),
    hasher,
    throttle,
    onRateLimited: () => metrics.rateLimited.inc(),
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

  const shutdownSteps: ShutdownStep[] = [{ name: 'password hashing', run: () => hasher.close() }];
  return { app, auth, hasher, useCases: { placeOrders }, shutdownSteps };
}

export type ApiComposition = ReturnType<typeof composeApi>;
