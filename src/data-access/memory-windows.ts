/** A fixed window's count and the milliseconds left of it (0 and 0 once it has ended). */
export interface WindowCount {
  count: number;
  ttlMs: number;
}

/**
 * Fixed-window counters in process memory: where the rate limits and the failed-login
 * throttle count while Redis fails. One instance serves both, so a limit reads the counts the
 * other wrote, as the Redis keys would.
 */
export function createMemoryWindows(maxKeys = 100_000) {
  const windows = new Map<string, { count: number; expires: number }>();

  return {
    /** Adds delta (never below 0); a key whose window has ended starts a new one. */
    add(key: string, windowMs: number, delta: number): WindowCount {
      const now = Date.now();
      let entry = windows.get(key);
      if (!entry || entry.expires <= now) {
        if (windows.size >= maxKeys) windows.clear();
        entry = { count: 0, expires: now + windowMs };
        windows.set(key, entry);
      }
      entry.count = Math.max(0, entry.count + delta);
      return { count: entry.count, ttlMs: entry.expires - now };
    },
    /** Reads a count without starting a window. */
    peek(key: string): WindowCount {
      const entry = windows.get(key);
      const ttlMs = entry ? entry.expires - Date.now() : 0;
      return ttlMs > 0 ? { count: entry!.count, ttlMs } : { count: 0, ttlMs: 0 };
    },
  };
}

export type MemoryWindows = ReturnType<typeof createMemoryWindows>;
