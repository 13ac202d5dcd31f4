import { Redis } from 'ioredis';
import { createMemoryWindows } from '../../src/data-access/memory-windows';
import { createRateLimitStore, Limiter, Step } from '../../src/data-access/rate-limit-store';
import { REDIS_URL, uniqueName } from '../helpers/harness';
import { deletePrefixes } from '../helpers/redis-keys';

/*
 * Checks made together (concurrent requests) go to Redis in one script call, each still
 * counted and refused on its own.
 */

describe('the rate-limit store', () => {
  const prefix = uniqueName('rl');
  let redis: Redis;
  let calls = 0;
  const fallbacks: Limiter[] = [];

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command, stream) => {
      if (command.name === 'evalsha' || command.name === 'eval') calls++;
      return send(command, stream);
    }) as typeof redis.sendCommand;
  });
  afterAll(async () => {
    await deletePrefixes(REDIS_URL, [prefix]);
    redis.disconnect();
  });

  const store = () =>
    createRateLimitStore({
      redis,
      memory: createMemoryWindows(),
      onFallback: (limiter) => void fallbacks.push(limiter),
    });
  const count = (key: string, limit = 10): Step => ({
    limiter: 'ip',
    key: `${prefix}:${key}`,
    limit,
    windowMs: 60_000,
    mode: 'count',
  });
  const peek = (key: string, limit: number): Step => ({ ...count(key, limit), mode: 'peek' });

  it('sends checks made together in one round trip, each counted on its own', async () => {
    const { check } = store();
    await check([count('warm-up')]); // loads the script (NOSCRIPT, then EVAL) once
    calls = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => check([count('shared'), count(`own-${i}`)])),
    );
    expect(calls).toBe(1);
    expect(results.map((r) => r[0]!.count).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(results.every((r) => r.length === 2 && r[1]!.count === 1)).toBe(true);
    expect(results.every((r) => r[0]!.ttlMs > 59_000)).toBe(true);
  });

  it('ends only the refused check at its limit, not the others in the same call', async () => {
    const { check } = store();
    await redis.set(`${prefix}:failures`, 3, 'PX', 60_000);
    const [refused, counted, over] = await Promise.all([
      // A peek at its limit stops the counts after it.
      check([count('a'), peek('failures', 3), count('after-peek')]),
      check([count('b'), count('c')]),
      // A count over its limit stops the steps after it.
      check([count('d', 0), count('after-over')]),
    ]);
    expect(refused!.map((c) => c.count)).toEqual([1, 3]);
    expect(counted!.map((c) => c.count)).toEqual([1, 1]);
    expect(over!.map((c) => c.count)).toEqual([1]);
    expect(await redis.exists(`${prefix}:after-peek`, `${prefix}:after-over`)).toBe(0);
  });

  it('counts in memory, per check, when Redis fails', async () => {
    const broken = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    const { check } = createRateLimitStore({
      redis: broken,
      memory: createMemoryWindows(),
      onFallback: (limiter) => void fallbacks.push(limiter),
    });
    fallbacks.length = 0;
    const results = await Promise.all([check([count('m')]), check([count('m')])]);
    expect(results.map((r) => r[0]!.count).sort()).toEqual([1, 2]);
    expect(fallbacks).toEqual(['ip', 'ip']);
    broken.disconnect();
  });
});
