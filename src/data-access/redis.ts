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
  const redis = new Redis(url, {
    ...options,
    connectTimeout: 5000,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  const where = `${redis.options.host}:${redis.options.port}`;
  let lastError = '';
  redis.on('error', (err: Error) => {
    // ioredis emits one error per reconnect attempt; repeat the line only when it changes.
    if (err.message === lastError) return;
    lastError = err.message;
    logger.warn('redis unavailable, retrying', { redis: where, kind, error: err.message });
  });
  redis.on('ready', () => {
    if (lastError) logger.info('redis connected', { redis: where, kind });
    lastError = '';
  });
  return redis;
}
