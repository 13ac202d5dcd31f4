/** Exponential backoff between delivery attempts: base doubling up to cap, for maxAge in all. */
export interface RetrySchedule {
  baseMs: number;
  capMs: number;
  /** Attempts stop once their delays would exceed this (3 days by default, like Stripe). */
  maxAgeMs: number;
}

export const DEFAULT_RETRY: RetrySchedule = {
  baseMs: 30_000,
  capMs: 6 * 3600_000,
  maxAgeMs: 3 * 24 * 3600_000,
};

function plainDelay(retry: number, s: RetrySchedule): number {
  return Math.min(s.baseMs * 2 ** Math.max(0, retry - 1), s.capMs);
}

/**
 * "Equal jitter": between half and all of the plain delay, so endpoints that failed together
 * do not all come back at the same instant, and the total never exceeds the schedule's.
 */
export function retryDelay(retry: number, s: RetrySchedule): number {
  const d = plainDelay(retry, s);
  return Math.round(d / 2 + (Math.random() * d) / 2);
}

/** Attempts (the first included) whose plain delays add up to at most maxAge. */
export function attemptsWithin(s: RetrySchedule): number {
  let total = 0;
  let attempts = 1;
  while (attempts < 1000) {
    total += plainDelay(attempts, s);
    if (total > s.maxAgeMs) break;
    attempts += 1;
  }
  return attempts;
}
