import type { Redis } from 'ioredis';
import { createMemoryWindows, MemoryWindows, WindowCount } from './memory-windows';
import type { Step } from './rate-limit-store';

export interface LoginThrottleLimits {
  /** Failed authentications per client address within addressWindowSeconds. */
  addressMax: number;
  addressWindowSeconds: number;
  /** Failed logins per username, from any address, within accountWindowSeconds. */
  accountMax: number;
  accountWindowSeconds: number;
}

export interface LoginSubject {
  ip: string;
  /** The username tried, when the credentials name one (Basic). */
  account?: string;
}

export interface Refusal {
  /** Seconds until the counter that refused ends its window. */
  seconds: number;
  /** That counter's limit. */
  limit: number;
  /** That counter's window. */
  windowSeconds: number;
}

// Increment every key, set each new key's expiry, return [count, ttl ms] per key: in one
// atomic step, so a concurrent burst is counted before any of it is evaluated.
const RESERVE = `
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[i]) end
  out[#out + 1] = n
  out[#out + 1] = redis.call('PTTL', key)
end
return out`;

// Decrement only keys that still exist: a DECR after expiry would leave a -1 with no TTL.
const RELEASE = `
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0`;

/**
 * Counters of failed logins per address and per account, shared by every pod through Redis.
 * A guess reserves its slot before its hash is checked and gives it back when it succeeds, so
 * `max` bounds the guesses evaluated, however many arrive at once or hang up. If Redis fails,
 * counting continues in process memory (per pod, not off; `memory` is shared with the rate
 * limits, which read these counters) and `onFallback` says so.
 */
export function createLoginThrottle(opts: {
  redis: Redis;
  prefix: string;
  limits: LoginThrottleLimits;
  memory?: MemoryWindows;
  onFallback: (err: Error) => void;
}) {
  const { limits } = opts;
  const memory = opts.memory ?? createMemoryWindows();

  function keys(subject: LoginSubject): { key: string; max: number; windowMs: number }[] {
    const base = `${opts.prefix}:login-failures`;
    return [
      {
        key: `${base}:ip:${subject.ip}`,
        max: limits.addressMax,
        windowMs: limits.addressWindowSeconds * 1000,
      },
      ...(subject.account === undefined
        ? []
        : [
            {
              key: `${base}:account:${subject.account}`,
              max: limits.accountMax,
              windowMs: limits.accountWindowSeconds * 1000,
            },
          ]),
    ];
  }

  /** The refusal of the longest-waiting counter at (or, strictly, over) its limit. */
  function over(
    counted: WindowCount[],
    ks: ReturnType<typeof keys>,
    strict: boolean,
  ): Refusal | undefined {
    let refusal: Refusal | undefined;
    counted.forEach((c, i) => {
      const { max, windowMs } = ks[i]!;
      if (strict ? c.count <= max : c.count < max) return;
      const seconds = Math.max(1, Math.ceil(c.ttlMs / 1000));
      if (!refusal || seconds > refusal.seconds) {
        refusal = { seconds, limit: max, windowSeconds: windowMs / 1000 };
      }
    });
    return refusal;
  }

  async function counts(ks: ReturnType<typeof keys>, delta: 0 | 1) {
    try {
      if (delta === 0) {
        const pipeline = opts.redis.multi();
        for (const k of ks) pipeline.get(k.key).pttl(k.key);
        const replies = (await pipeline.exec()) ?? [];
        return ks.map((_, i) => ({
          count: Number(replies[2 * i]?.[1] ?? 0),
          ttlMs: Number(replies[2 * i + 1]?.[1] ?? 0),
        }));
      }
      const flat = (await opts.redis.eval(
        RESERVE,
        ks.length,
        ...ks.map((k) => k.key),
        ...ks.map((k) => k.windowMs),
      )) as number[];
      return ks.map((_, i) => ({ count: flat[2 * i]!, ttlMs: flat[2 * i + 1]! }));
    } catch (err) {
      opts.onFallback(err as Error);
      return ks.map((k) => (delta === 0 ? memory.peek(k.key) : memory.add(k.key, k.windowMs, 1)));
    }
  }

  return {
    /** The subject's counters as steps of a rate-limit check that reads them (`refusalAt`). */
    steps(subject: LoginSubject): Step[] {
      return keys(subject).map((k) => ({
        limiter: 'login-failures',
        key: k.key,
        limit: k.max,
        windowMs: k.windowMs,
        mode: 'peek',
      }));
    },
    /** What `refusal` would say, from the counts such a check read. */
    refusalAt(subject: LoginSubject, counts: WindowCount[]): Refusal | undefined {
      return over(counts, keys(subject), false);
    },
    /** Why the subject must wait before trying again, or undefined. Counts nothing. */
    async refusal(subject: LoginSubject): Promise<Refusal | undefined> {
      const ks = keys(subject);
      return over(await counts(ks, 0), ks, false);
    },
    /** Counts one attempt as failed up front; a refusal if that took it over a limit. */
    async reserve(subject: LoginSubject): Promise<Refusal | undefined> {
      const ks = keys(subject);
      return over(await counts(ks, 1), ks, true);
    },
    /** Gives back a reserved slot: the attempt succeeded (or was never evaluated). */
    async release(subject: LoginSubject): Promise<void> {
      const ks = keys(subject);
      await opts.redis.eval(RELEASE, ks.length, ...ks.map((k) => k.key)).catch(() => {
        for (const k of ks) memory.add(k.key, k.windowMs, -1);
      });
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
