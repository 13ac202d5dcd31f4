import { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger';

/**
 * Two kinds of connection, as BullMQ's production guide asks: producers (API, locks, rate
 * limits) fail fast while Redis is down instead of queueing commands; workers block and retry
 * forever (`maxRetriesPerRequest: null`). Both reconnect on their own and log each failed try
 * with host and port only.
 */
export function createRedis(url: string, kind: 'producer' | 'worker', logger: Logger): Redis {
  const options: RedisOptions =
    kind === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 }
      : { maxRetriesPerRequest: null };
  let attempt = 0;
  const redis = new Redis(url, {
    ...options,
    connectTimeout: 5000,
    retryStrategy: (times) => {
      attempt = times;
      return Math.min(times * 200, 5000);
    },
  });
  const where = `${redis.options.host}:${redis.options.port}`;
  // ioredis emits one error per failed connection attempt: one line each, host and port only.
  redis.on('error', (err: Error) => {
    logger.warn('redis unreachable, retrying', {
      redis: where,
      kind,
      attempt: attempt + 1,
      error: err.message,
    });
  });
  redis.on('ready', () => {
    if (attempt > 0) logger.info('redis reachable', { redis: where, kind });
    attempt = 0;
  });
  return redis;
}
