import { once } from 'node:events';
import { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../lib/logger';

/** 500 ms doubling, capped at 5 s: gentle while Redis is away, quick to see it back. */
export function redisRetryDelay(attempt: number): number {
  return Math.min(500 * 2 ** (attempt - 1), 5000);
}

/**
 * Whether an error a BullMQ queue or worker emits is already told by the reconnect line: a
 * socket error, or any error while its connection is not ready (a refused AUTH, a command cut
 * off by the outage). BullMQ re-emits every error of its connections, blocking ones included.
 */
export function isOutageError(err: Error, connection: Redis): boolean {
  return (err as NodeJS.ErrnoException).syscall !== undefined || connection.status !== 'ready';
}

/**
 * Two kinds of connection, as BullMQ's production guide asks: producers (API, locks, rate
 * limits) fail fast while Redis is down instead of queueing commands; workers block and retry
 * forever (`maxRetriesPerRequest: null`). Every connection, BullMQ's duplicates too (they copy
 * these options), retries on the same schedule, so only the producer, which every role has,
 * logs its attempts at warn: one line per attempt per process, host and port only.
 */
export function createRedis(url: string, kind: 'producer' | 'worker', logger: Logger): Redis {
  const options: RedisOptions =
    kind === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 }
      : { maxRetriesPerRequest: null };
  const redis = new Redis(url, {
    ...options,
    connectTimeout: 5000,
    retryStrategy: redisRetryDelay,
  });
  const where = `${redis.options.host}:${redis.options.port}`;
  let attempt = 0;
  // A server shutting down cleanly closes the socket without an error.
  let lastError = 'connection closed';

  // ioredis emits 'error' only for a failed or lost connection, then 'reconnecting' with the
  // delay it chose: the reconnect line carries the error.
  redis.on('error', (err: Error) => {
    lastError = err.message;
  });
  redis.on('reconnecting', (delayMs: number) => {
    attempt++;
    const line = { redis: where, attempt, retry_in_ms: delayMs, error: lastError };
    if (kind === 'producer') logger.warn('redis unreachable, retrying', line);
    else logger.debug('redis connection retrying', { ...line, kind });
  });
  if (kind === 'producer') reconnectWhenStalled(redis, where, logger);
  redis.on('ready', () => {
    if (kind === 'producer' && attempt > 0) logger.info('redis reachable', { redis: where });
    attempt = 0;
    lastError = 'connection closed';
  });
  return redis;
}

/**
 * A stalled Redis (paused, partitioned) keeps its socket open, so every command waits out the
 * 2 s commandTimeout, several times per request. The first timeout drops the connection
 * instead: while it reconnects, commands fail at once (no offline queue) and their callers
 * fall back (rate limits in memory, enqueue left to the reconciler).
 */
function reconnectWhenStalled(redis: Redis, where: string, logger: Logger): void {
  const send = redis.sendCommand.bind(redis);
  // ioredis sends a command again after a reconnect; its timeout belongs to its first stream.
  const watched = new WeakSet<object>();
  redis.sendCommand = (command, stream) => {
    const sentOn = redis.stream;
    const result = send(command, stream);
    if (watched.has(command)) return result;
    watched.add(command);
    command.promise.catch((err: Error) => {
      if (err.message === 'Command timed out' && redis.stream === sentOn) {
        logger.warn('redis stopped answering, reconnecting', { redis: where });
        // Destroyed, not ended: a stalled server would never answer the FIN of disconnect().
        redis.stream.destroy();
      }
    });
    return result;
  };
}

/** The first of these events within ms, or none: resolves either way. */
async function firstOf(redis: Redis, events: string[], ms: number): Promise<void> {
  const signal = AbortSignal.timeout(ms);
  await Promise.race(events.map((event) => once(redis, event, { signal }))).catch(() => undefined);
}

/**
 * QUIT when the connection is up (pending replies arrive first), after letting a connection
 * attempt in flight finish; otherwise drop it, which also ends the reconnect loop, and wait
 * for the end, so BullMQ settles its own wait for the connection while its queue still listens.
 * (A producer has no offline queue: QUIT on a connection still connecting would fail and leave
 * it to connect later and stay open.)
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'connecting' || redis.status === 'connect') {
    await firstOf(redis, ['ready', 'end', 'error'], 1000);
  }
  if (redis.status === 'ready') {
    await redis.quit();
    return;
  }
  const ended = firstOf(redis, ['end'], 500);
  redis.disconnect();
  if (redis.status !== 'end') await ended;
}
