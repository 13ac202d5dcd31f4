import type { Redis } from 'ioredis';
import type { MemoryWindows, WindowCount } from './memory-windows';
import { createRedisScript } from './redis-script';

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

// The steps in order: a count over its limit ends the check; a peek at its limit ends it before
// the next count, so a refused request is not counted further. Counting is rate-limit-redis's
// (a key without a live TTL starts a new window), on the same keys: pods of the previous
// release share the budgets during a rollout. Returns [count, ttl ms] per step evaluated.
const CHECK = `
local out = {}
local refused = false
for i, key in ipairs(KEYS) do
  local mode, limit, window = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  if mode == 'count' then
    if refused then break end
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
    if n > limit then break end
  else
    local n = tonumber(redis.call('GET', key) or '0')
    out[#out + 1] = n
    out[#out + 1] = math.max(0, redis.call('PTTL', key))
    if n >= limit then refused = true end
  end
end
return out`;

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

  /** The count of each step evaluated, in order: fewer than `steps` when one refused. */
  async function check(steps: Step[]): Promise<WindowCount[]> {
    try {
      const flat = (await script(
        steps.map((s) => s.key),
        steps.flatMap((s) => [s.mode, s.limit, s.windowMs]),
      )) as number[];
      const out: WindowCount[] = [];
      for (let i = 0; i < flat.length; i += 2) out.push({ count: flat[i]!, ttlMs: flat[i + 1]! });
      return out;
    } catch (err) {
      const counts = inMemory(steps);
      const limiters = new Set(steps.slice(0, counts.length).map((s) => s.limiter));
      for (const limiter of limiters) opts.onFallback(limiter, err as Error);
      return counts;
    }
  }

  return { check };
}

export type RateLimitStore = ReturnType<typeof createRateLimitStore>;
