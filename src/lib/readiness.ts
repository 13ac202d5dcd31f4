export type Check = () => Promise<unknown>;

export interface ReadinessReport {
  ready: boolean;
  body: { status: 'ok' | 'fail' | 'draining'; checks: Record<string, 'ok' | 'fail'> };
}

const CHECK_TIMEOUT_MS = 2000;

/** /readyz: every dependency answers, and the process is not draining. */
export function createReadiness(checks: Record<string, Check>) {
  let draining = false;

  async function report(): Promise<ReadinessReport> {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => passes(checks[name]!)));
    const status = Object.fromEntries(
      names.map((n, i) => [n, results[i] ? 'ok' : 'fail'] as const),
    );
    const healthy = results.every(Boolean);
    return {
      ready: healthy && !draining,
      body: { status: draining ? 'draining' : healthy ? 'ok' : 'fail', checks: status },
    };
  }

  return {
    report,
    startDraining: () => {
      draining = true;
    },
    isDraining: () => draining,
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
