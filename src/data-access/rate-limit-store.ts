import type { Redis } from 'ioredis';
import type { MemoryWindows, WindowCount } from './memory-windows';
import { createBatcher, Outcome } from '../lib/batcher';
import { createRedisScript } from './redis-script';

/** Keeps one script call short: Redis runs nothing else meanwhile. */
const MAX_CHECKS_PER_CALL = 100;

/** The label values of rate_limit_store_fallbacks_total. */
export type Limiter = 'ip' | 'principal' | 'login-failures';

/** One fixed window of a check. */
export interface Step {
  limiter: Limiter;
  key: string;
  limit: number;
  windowMs: number;
  /** `count` adds this request and refuses over the limit; `peek` only reads (failed logins)
   *  and refuses at it. */
  mode: 'count' | 'peek';
}

// Several checks in one call: ARGV[1] is their number, ARGV[1 + c] the steps of check c, then
// mode, limit and window of every step; KEYS are the steps' keys in the same order. Per check,
// the steps in order: a count over its limit ends the check; a peek at its limit ends it before
// the next count, so a refused request is not counted further. Counting is rate-limit-redis's
// (a key without a live TTL starts a new window), on the same keys: pods of the previous
// release share the budgets during a rollout. Returns, per check, [count, ttl ms] per step
// evaluated.
const CHECK = `
local checks = tonumber(ARGV[1])
local results = {}
local k, a = 0, 1 + checks
for c = 1, checks do
  local out = {}
  local refused, ended = false, false
  for s = 1, tonumber(ARGV[1 + c]) do
    k = k + 1
    local key, mode, limit, window = KEYS[k], ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
    a = a + 3
    if ended then
    elseif mode == 'count' then
      if refused then
        ended = true
      else
        local ttl = redis.call('PTTL', key)
        local n
        if ttl <= 0 then
          redis.call('SET', key, 1, 'PX', window)
          n, ttl = 1, tonumber(window)
        else
          n = redis.call('INCR', key)
        end
        out[#out + 1] = n
        out[#out + 1] = ttl
        if n > limit then ended = true end
      end
    else
      local n = tonumber(redis.call('GET', key) or '0')
      out[#out + 1] = n
      out[#out + 1] = math.max(0, redis.call('PTTL', key))
      if n >= limit then refused = true end
    end
  end
  results[c] = out
end
return results`;

/**
 * Checks several fixed windows — a request's per-IP and per-user limits and its failed-login
 * counters — in one Redis round trip. If Redis fails, the same check runs on process memory
 * (limits become per pod, not off) and `onFallback` is told once per limiter involved.
 */
export function createRateLimitStore(opts: {
  redis: Redis;
  memory: MemoryWindows;
  onFallback: (limiter: Limiter, err: Error) => void;
}) {
  const script = createRedisScript(opts.redis, CHECK);

  function inMemory(steps: Step[]): WindowCount[] {
    const out: WindowCount[] = [];
    let refused = false;
    for (const step of steps) {
      if (step.mode === 'count') {
        if (refused) break;
        const counted = opts.memory.add(step.key, step.windowMs, 1);
        out.push(counted);
        if (counted.count > step.limit) break;
      } else {
        const read = opts.memory.peek(step.key);
        out.push(read);
        if (read.count >= step.limit) refused = true;
      }
    }
    return out;
  }

  async function checkTogether(checks: Step[][]): Promise<Outcome<WindowCount[]>[]> {
    try {
      const steps = checks.flat();
      const results = (await script(
        steps.map((s) => s.key),
        [
          checks.length,
          ...checks.map((c) => c.length),
          ...steps.flatMap((s) => [s.mode, s.limit, s.windowMs]),
        ],
      )) as number[][];
      return results.map((flat) => {
        const out: WindowCount[] = [];
        for (let i = 0; i < flat.length; i += 2) out.push({ count: flat[i]!, ttlMs: flat[i + 1]! });
        return { ok: true, value: out };
      });
    } catch (err) {
      return checks.map((steps) => {
        const counts = inMemory(steps);
        const limiters = new Set(steps.slice(0, counts.length).map((s) => s.limiter));
        for (const limiter of limiters) opts.onFallback(limiter, err as Error);
        return { ok: true, value: counts };
      });
    }
  }

  /**
   * The count of each step evaluated, in order: fewer than `steps` when one refused. Checks
   * made while one is on its way to Redis go together in the next call (as group commit does
   * with transactions): one round trip for many requests under load, none added when idle.
   */
  const check = createBatcher(checkTogether, { concurrency: 2, maxSize: MAX_CHECKS_PER_CALL });

  return { check };
}

export type RateLimitStore = ReturnType<typeof createRateLimitStore>;
