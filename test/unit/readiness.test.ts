import { createReadiness } from '../../src/lib/readiness';

const ok = async () => 'pong';
const down = async () => {
  throw new Error('ECONNREFUSED');
};

describe('readiness', () => {
  it('is not ready while starting, even with every dependency up', async () => {
    const r = createReadiness({ mysql: ok, redis: ok });
    expect(await r.report()).toEqual({
      ready: false,
      body: { status: 'starting', checks: { mysql: 'ok', redis: 'ok' } },
    });
    r.markStarted();
    expect(await r.report()).toEqual({
      ready: true,
      body: { status: 'ok', checks: { mysql: 'ok', redis: 'ok' } },
    });
  });

  it('marks the failing dependency', async () => {
    const r = createReadiness({ mysql: ok, redis: down });
    r.markStarted();
    expect(await r.report()).toEqual({
      ready: false,
      body: { status: 'fail', checks: { mysql: 'ok', redis: 'fail' } },
    });
  });

  it('is not ready once draining', async () => {
    const r = createReadiness({ mysql: ok });
    r.markStarted();
    r.startDraining();
    expect((await r.report()).body.status).toBe('draining');
    expect((await r.report()).ready).toBe(false);
  });
});
