import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, RedisReply } from 'rate-limit-redis';
import { AppError } from '../../../lib/app-error';
import type { Metrics } from '../../../lib/metrics';

/**
 * Per client IP (as resolved through TRUST_PROXY), shared by every pod through Redis. If Redis
 * is unreachable the request passes (`passOnStoreError`): availability over strict limits.
 */
export function createRateLimit(opts: {
  redis: Redis;
  prefix: string;
  max: number;
  windowSeconds: number;
  metrics: Metrics;
}): RequestHandler {
  return rateLimit({
    windowMs: opts.windowSeconds * 1000,
    limit: opts.max,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    passOnStoreError: true,
    store: new RedisStore({
      prefix: `${opts.prefix}:rate-limit:ip:`,
      sendCommand: async (command: string, ...args: string[]) => {
        // The store loads its scripts once, at start-up, and would keep a failed load forever
        // if Redis were down then. A script's SHA1 is known without Redis; EVALSHA answers
        // NOSCRIPT once Redis is back, and the store loads the script again.
        if (command === 'SCRIPT' && args[0] === 'LOAD' && opts.redis.status !== 'ready') {
          return createHash('sha1').update(args[1]!).digest('hex');
        }
        return opts.redis.call(command, ...args) as Promise<RedisReply>;
      },
    }),
    handler: (_req, _res, next, options) => {
      opts.metrics.rateLimited.inc();
      // express-rate-limit has already set Retry-After and the RateLimit-* headers.
      next(
        new AppError(
          'rate-limited',
          `More than ${options.limit} requests in ${opts.windowSeconds} s.`,
        ),
      );
    },
  });
}
