import type { Logger } from './logger';
import { withTimeout } from './with-timeout';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs the steps in order within one deadline; safe to call twice (the second call returns the
 * first call's promise). A step that fails or is still running at the deadline is logged and
 * the next step still runs. Resolves true when every step finished in time.
 */
export function createShutdown(logger: Logger, timeoutMs: number, steps: ShutdownStep[]) {
  let running: Promise<boolean> | undefined;

  async function runAll(): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let clean = true;
    for (const step of steps) {
      const left = deadline - Date.now();
      const ok = await withTimeout(step.run(), Math.max(left, 0)).then(
        (outcome) => outcome.done,
        (err: Error) => {
          logger.warn('shutdown step failed', { step: step.name, error: err.message });
          return true;
        },
      );
      if (!ok) {
        clean = false;
        logger.warn('shutdown step cut off by the deadline', { step: step.name });
      }
    }
    return clean;
  }

  return {
    run(): Promise<boolean> {
      running ??= runAll();
      return running;
    },
  };
}
