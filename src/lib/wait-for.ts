import type { Logger } from './logger';

/**
 * Retries `probe` with capped exponential backoff until it succeeds or `signal` aborts, logging
 * one line per failed attempt that names the dependency and where it is (never credentials).
 */
export async function waitFor(
  what: { name: string; where: string },
  probe: () => Promise<unknown>,
  logger: Logger,
  signal?: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await probe();
      if (attempt > 1) logger.info(`${what.name} reachable`, { [what.name]: what.where });
      return;
    } catch (err) {
      const delayMs = Math.min(500 * 2 ** (attempt - 1), 10_000);
      logger.warn(`${what.name} unreachable, retrying`, {
        [what.name]: what.where,
        attempt,
        retry_in_ms: delayMs,
        error: (err as Error).message,
      });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (signal?.aborted) throw new Error(`gave up waiting for ${what.name}`);
    }
  }
}
