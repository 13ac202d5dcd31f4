import type { Logger } from './logger';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs the steps in order within one deadline; safe to call twice (the second call returns the
 * first call's promise). A step that fails or is still running at the deadline is logged and
 * the next step still runs.
 */
export function createShutdown(logger: Logger, timeoutMs: number) {
  const steps: ShutdownStep[] = [];
  let running: Promise<boolean> | undefined;

  async function runAll(): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let clean = true;
    for (const step of steps) {
      const left = deadline - Date.now();
      const ok = await within(step.run(), Math.max(left, 0)).catch((err: Error) => {
        logger.warn('shutdown step failed', { step: step.name, error: err.message });
        return true;
      });
      if (!ok) {
        clean = false;
        logger.warn('shutdown step cut off by the deadline', { step: step.name });
      }
    }
    return clean;
  }

  return {
    add(name: string, run: () => Promise<unknown>) {
      steps.push({ name, run });
    },
    run(): Promise<boolean> {
      running ??= runAll();
      return running;
    },
  };
}

/** true if the promise settled within ms, false if the time ran out first. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
