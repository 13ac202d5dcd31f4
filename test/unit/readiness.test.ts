import { Check, createReadiness } from '../../src/lib/readiness';

const ok = async () => 'pong';
const down = async () => {
  throw new Error('ECONNREFUSED');
};
const never: Check = () => new Promise(() => undefined);

/** A check that counts its calls and how many of them run at once. */
function counted(check: Check = ok) {
  const stats = { calls: 0, running: 0, mostAtOnce: 0 };
  const run: Check = async () => {
    stats.calls++;
    stats.running++;
    stats.mostAtOnce = Math.max(stats.mostAtOnce, stats.running);
    try {
      return await check();
    } finally {
      stats.running--;
    }
  };
  return { run, stats };
}

const slow =
  (ms: number): Check =>
  () =>
    new Promise((resolve) => setTimeout(resolve, ms));

describe('readiness', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('is starting, with no checks run, until its first refresh is done', () => {
    const mysql = counted();
    const r = createReadiness({ mysql: mysql.run });
    r.markStarted();
    expect(r.report()).toEqual({ ready: false, body: { status: 'starting', checks: {} } });
    expect(mysql.stats.calls).toBe(0);
  });

  it('is not ready while starting, even with every dependency up', async () => {
    const r = createReadiness({ mysql: ok, redis: ok });
    await r.start();
    expect(r.report()).toEqual({
      ready: false,
      body: { status: 'starting', checks: { mysql: 'ok', redis: 'ok' } },
    });
    r.markStarted();
    expect(r.report()).toEqual({
      ready: true,
      body: { status: 'ok', checks: { mysql: 'ok', redis: 'ok' } },
    });
    await r.stop();
  });

  it('marks the failing dependency', async () => {
    const r = createReadiness({ mysql: ok, redis: down });
    r.markStarted();
    await r.start();
    expect(r.report()).toEqual({
      ready: false,
      body: { status: 'fail', checks: { mysql: 'ok', redis: 'fail' } },
    });
    await r.stop();
  });

  it('answers reports from the last refresh without running the checks', async () => {
    const mysql = counted();
    const r = createReadiness({ mysql: mysql.run }, { intervalMs: 1000 });
    await r.start();
    for (let i = 0; i < 100; i++) r.report();
    expect(mysql.stats.calls).toBe(1);
    await r.stop();
  });

  it('refreshes every interval, each run starting only after the previous one ended', async () => {
    const mysql = counted(slow(300));
    const r = createReadiness({ mysql: mysql.run }, { intervalMs: 100 });
    const first = r.start();
    await jest.advanceTimersByTimeAsync(300);
    await first;
    await jest.advanceTimersByTimeAsync(2000); // five more runs of 300 + 100 ms
    expect(mysql.stats.calls).toBe(6);
    expect(mysql.stats.mostAtOnce).toBe(1);
    await r.stop();
  });

  it('notices a dependency going down and coming back on the next refreshes', async () => {
    let up = true;
    const r = createReadiness({ redis: () => (up ? ok() : down()) }, { intervalMs: 100 });
    r.markStarted();
    await r.start();
    up = false;
    await jest.advanceTimersByTimeAsync(100);
    expect(r.report().body).toEqual({ status: 'fail', checks: { redis: 'fail' } });
    up = true;
    await jest.advanceTimersByTimeAsync(100);
    expect(r.report().ready).toBe(true);
    await r.stop();
  });

  it('fails a check that does not answer within the timeout', async () => {
    const r = createReadiness({ mysql: never, redis: ok }, { timeoutMs: 2000 });
    r.markStarted();
    const first = r.start();
    await jest.advanceTimersByTimeAsync(2000);
    await first;
    expect(r.report().body.checks).toEqual({ mysql: 'fail', redis: 'ok' });
    await r.stop();
  });

  it('does not call a check again while an earlier call still hangs', async () => {
    const mysql = counted(never);
    const r = createReadiness({ mysql: mysql.run }, { intervalMs: 100, timeoutMs: 200 });
    void r.start();
    await jest.advanceTimersByTimeAsync(3000);
    expect(mysql.stats.calls).toBe(1);
    const stopped = r.stop();
    await jest.advanceTimersByTimeAsync(200);
    await stopped;
  });

  it('turns to draining at once, without waiting for the next refresh', async () => {
    const r = createReadiness({ mysql: ok }, { intervalMs: 60_000 });
    r.markStarted();
    await r.start();
    r.startDraining();
    expect(r.report()).toEqual({
      ready: false,
      body: { status: 'draining', checks: { mysql: 'ok' } },
    });
    await r.stop();
  });

  it('runs no check once stopped', async () => {
    const mysql = counted();
    const r = createReadiness({ mysql: mysql.run }, { intervalMs: 100 });
    await r.start();
    await r.stop();
    await jest.advanceTimersByTimeAsync(1000);
    expect(mysql.stats.calls).toBe(1);
  });
});
