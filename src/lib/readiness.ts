export type Check = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  body: {
    status: 'ok' | 'fail' | 'starting' | 'draining';
    checks: Record<string, 'ok' | 'fail'>;
  };
}

const CHECK_TIMEOUT_MS = 2000;

/**
 * /readyz: every dependency answers, start-up (migrations, admin user) is done, and the
 * process is not draining. The checks say only whether dependencies answer.
 */
export function createReadiness(checks: Record<string, Check>) {
  let started = false;
  let draining = false;

  async function report(): Promise<ReadinessReport> {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => passes(checks[name]!)));
    const status = Object.fromEntries(
      names.map((n, i) => [n, results[i] ? 'ok' : 'fail'] as const),
    );
    const healthy = results.every(Boolean);
    const state = draining ? 'draining' : !healthy ? 'fail' : !started ? 'starting' : 'ok';
    return { ready: state === 'ok', body: { status: state, checks: status } };
  }

  return {
    report,
    markStarted: () => {
      started = true;
    },
    startDraining: () => {
      draining = true;
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;

async function passes(check: Check): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
