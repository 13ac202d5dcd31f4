import { withTimeout } from './with-timeout';

export type Check = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: 'ok' | 'fail' | 'starting' | 'draining';
    checks: Record<string, 'ok' | 'fail'>;
  };
}

export interface ReadinessOptions {
  /** Pause between the end of one refresh and the start of the next. */
  intervalMs?: number;
  /** A check that has not answered by then counts as failed. */
  timeoutMs?: number;
}

/**
 * /readyz: every dependency answers, start-up (migrations, admin user) is done, and the
 * process is not draining. The checks run on a timer, never on a request: /readyz is public
 * and unlimited and each scrape reads it twice, so a report costs no I/O.
 */
export function createReadiness(
  checks: Record<string, Check>,
  { intervalMs = 1000, timeoutMs = 2000 }: ReadinessOptions = {},
) {
  let started = false;
  let draining = false;
  let results: Record<string, 'ok' | 'fail'> | undefined;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  // A call still hanging from an earlier run is awaited again rather than repeated, so a
  // stalled dependency does not pile up one call per refresh.
  const pending = new Map<string, Promise<unknown>>();

  function call(name: string): Promise<unknown> {
    let promise = pending.get(name);
    if (!promise) {
      promise = (async () => checks[name]!())();
      pending.set(name, promise);
      const forget = () => pending.delete(name);
      promise.then(forget, forget);
    }
    return promise;
  }

  async function refresh(): Promise<void> {
    const names = Object.keys(checks);
    const passed = await Promise.all(names.map((name) => passes(call(name), timeoutMs)));
    results = Object.fromEntries(names.map((n, i) => [n, passed[i] ? 'ok' : 'fail'] as const));
  }

  function run(): Promise<void> {
    running = refresh().finally(() => {
      running = undefined;
      if (stopped) return;
      timer = setTimeout(run, intervalMs);
      timer.unref();
    });
    return running;
  }

  function status(): ReadinessReport['body']['status'] {
    if (draining) return 'draining';
    if (!results) return 'starting';
    if (Object.values(results).includes('fail')) return 'fail';
    return started ? 'ok' : 'starting';
  }

  function report(): ReadinessReport {
    const state = status();
    return { ready: state === 'ok', body: { status: state, checks: { ...results } } };
  }

  return {
    report,
    /** Starts refreshing; resolves once the first refresh is done. */
    start(): Promise<void> {
      if (!stopped) return running ?? Promise.resolve();
      stopped = false;
      return run();
    },
    /** Stops refreshing; resolves once a refresh in flight is done. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
    markStarted: () => {
      started = true;
    },
    startDraining: () => {
      draining = true;
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;

async function passes(check: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return withTimeout(check, timeoutMs).then(
    (outcome) => outcome.done,
    () => false,
  );
}
