import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { MemoryStore, Options, rateLimit, Store } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, RedisReply } from 'rate-limit-redis';
import { AppError } from '../../../lib/app-error';
import type { Logger } from '../../../lib/logger';
import type { Metrics } from '../../../lib/metrics';

export interface RateLimits {
  /** Every request, per client IP as resolved through TRUST_PROXY. */
  perIp: RequestHandler;
  /** After authentication, per user, so one principal cannot spread load over many IPs. */
  perPrincipal: RequestHandler;
}

/**
 * Limits shared by every pod through Redis, one store and key prefix per limiter
 * (rate-limit-redis#171). If Redis fails, each limiter counts in process memory instead —
 * limits become per pod, not off — and rate_limit_store_fallbacks_total says so.
 */
export function createRateLimits(opts: {
  redis: Redis;
  prefix: string;
  max: number;
  windowSeconds: number;
  metrics: Metrics;
  logger: Logger;
}): RateLimits {
  function store(name: string): Store {
    const redisStore = new RedisStore({
      prefix: `${opts.prefix}:rate-limit:${name}:`,
      sendCommand: async (command: string, ...args: string[]) => {
        // The store loads its scripts once, at start-up, and would keep a failed load forever
        // if Redis were down then. A script's SHA1 is known without Redis; EVALSHA answers
        // NOSCRIPT once Redis is back, and the store loads the script again.
        if (command === 'SCRIPT' && args[0] === 'LOAD' && opts.redis.status !== 'ready') {
          return createHash('sha1').update(args[1]!).digest('hex');
        }
        return opts.redis.call(command, ...args) as Promise<RedisReply>;
      },
    });
    return withFallback(redisStore, new MemoryStore(), (err) => {
      opts.metrics.rateLimitFallbacks.inc({ limiter: name });
      opts.logger.debug('rate limit store failed; counting in memory', {
        limiter: name,
        error: err.message,
      });
    });
  }

  function limiter(name: string, options: Partial<Options>): RequestHandler {
    return rateLimit({
      standardHeaders: 'draft-6',
      legacyHeaders: false,
      // TRUST_PROXY=false is an explicit choice (no proxy in front), not a misconfiguration.
      validate: { xForwardedForHeader: false },
      store: store(name),
      handler: (_req, _res, next, options) => {
        opts.metrics.rateLimited.inc();
        // express-rate-limit has already set Retry-After and the RateLimit-* headers.
        next(new AppError('rate-limited', String(options.message)));
      },
      ...options,
    });
  }

  const window = opts.windowSeconds;
  return {
    perIp: limiter('ip', {
      windowMs: window * 1000,
      limit: opts.max,
      message: `More than ${opts.max} requests in ${window} s from this address.`,
    }),
    perPrincipal: limiter('principal', {
      windowMs: window * 1000,
      limit: opts.max,
      keyGenerator: (req: Request) => `user:${req.user?.username}`,
      skip: (req: Request) => !req.user,
      message: `More than ${opts.max} requests in ${window} s for this user.`,
    }),
  };
}

/** A store that falls back to another (process memory) for each call the first one fails. */
function withFallback(
  primary: Store,
  fallback: MemoryStore,
  onFallback: (err: Error) => void,
): Store {
  async function attempt<T>(call: (store: Store) => Promise<T> | T): Promise<T> {
    try {
      return await call(primary);
    } catch (err) {
      onFallback(err as Error);
      return call(fallback);
    }
  }
  return {
    prefix: primary.prefix,
    async init(options) {
      fallback.init(options);
      await primary.init?.(options);
    },
    get: (key) => attempt((s) => s.get!(key)),
    increment: (key) => attempt((s) => s.increment(key)),
    decrement: (key) => attempt((s) => s.decrement(key)),
    resetKey: (key) => attempt((s) => s.resetKey(key)),
    shutdown: () => fallback.shutdown(),
  };
}
