import type { ChildProcess } from 'node:child_process';
import { Harness, startHarness } from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';

const limits = {
  RATE_LIMIT_MAX: '3',
  RATE_LIMIT_WINDOW_SECONDS: '60',
  RATE_LIMIT_AUTH_FAILURES_MAX: '2',
};

describe('rate limits', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness(limits);
  });
  afterEach(async () => h.stop());

  const ping = (ip: string) =>
    h.api.get('/orders').set('Authorization', h.basic('manager')).set('X-Forwarded-For', ip);

  it('answers 429 problem+json with Retry-After and RateLimit-* headers over the per-IP limit', async () => {
    for (let i = 0; i < 3; i++) expect((await h.api.get('/ping')).status).toBe(200);
    const res = await h.api.get('/ping').set('X-Forwarded-For', '198.51.100.1');
    expect(res.status).toBe(200); // a different client (the loopback proxy is trusted)
    const limited = await h.api.get('/ping');
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBeDefined();
    const metric = await h.services.metrics.rateLimited.get();
    expect(metric.values[0]?.value).toBe(1);
  });

  it('limits each user across addresses', async () => {
    expect((await ping('198.51.100.1')).status).toBe(200);
    expect((await ping('198.51.100.2')).status).toBe(200);
    expect((await ping('198.51.100.3')).status).toBe(200);
    const res = await ping('198.51.100.4');
    expect(res.status).toBe(429);
    expect(res.body.detail).toMatch(/for this user/);
  });

  it('refuses a client after too many failed authentications, even with good credentials', async () => {
    const bad = 'Basic ' + Buffer.from('manager:guess').toString('base64');
    for (let i = 0; i < 2; i++) {
      expect(
        (await h.api.get('/orders').set('Authorization', bad).set('X-Forwarded-For', '203.0.113.9'))
          .status,
      ).toBe(401);
    }
    const good = await h.api
      .get('/orders')
      .set('Authorization', h.basic('manager'))
      .set('X-Forwarded-For', '203.0.113.9');
    expect(good.status).toBe(429);
    const elsewhere = await h.api
      .get('/orders')
      .set('Authorization', h.basic('manager'))
      .set('X-Forwarded-For', '203.0.113.10');
    expect(elsewhere.status).toBe(200);
  });
});

describe('with no trusted proxy', () => {
  it('ignores X-Forwarded-For, so a forged header does not reset the budget', async () => {
    const h = await startHarness({ ...limits, TRUST_PROXY: 'false' });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await h.api.get('/ping').set('X-Forwarded-For', `192.0.2.${i}`)).status).toBe(200);
      }
      expect((await h.api.get('/ping').set('X-Forwarded-For', '192.0.2.99')).status).toBe(429);
    } finally {
      await h.stop();
    }
  });
});

describe('behind one proxy hop (TRUST_PROXY=1)', () => {
  it('keys on the address the proxy appended, not on what the client wrote before it', async () => {
    const h = await startHarness({ ...limits, TRUST_PROXY: '1' });
    try {
      for (let i = 0; i < 3; i++) {
        expect(
          (await h.api.get('/ping').set('X-Forwarded-For', `10.9.9.${i}, 198.51.100.7`)).status,
        ).toBe(200);
      }
      expect(
        (await h.api.get('/ping').set('X-Forwarded-For', '10.9.9.200, 198.51.100.7')).status,
      ).toBe(429);
    } finally {
      await h.stop();
    }
  });
});

describe('two API instances', () => {
  it('share one budget through Redis', async () => {
    const a = await startHarness(limits);
    const b = await startHarness({ ...limits, REDIS_PREFIX: a.prefix });
    try {
      expect((await a.api.get('/ping')).status).toBe(200);
      expect((await b.api.get('/ping')).status).toBe(200);
      expect((await a.api.get('/ping')).status).toBe(200);
      expect((await b.api.get('/ping')).status).toBe(429);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe('when Redis is down', () => {
  let redis: ChildProcess;
  it('keeps requests flowing, limits per process, and counts the fallback', async () => {
    const port = await freePort();
    redis = await startRedis(port);
    const h = await startHarness({ ...limits, REDIS_URL: `redis://127.0.0.1:${port}` });
    try {
      await stop(redis);
      for (let i = 0; i < 3; i++) expect((await h.api.get('/ping')).status).toBe(200);
      expect((await h.api.get('/ping')).status).toBe(429);
      const fallbacks = await h.services.metrics.registry
        .getSingleMetric('rate_limit_store_fallbacks_total')!
        .get();
      expect(fallbacks.values.find((v) => v.labels.limiter === 'ip')?.value).toBeGreaterThanOrEqual(
        4,
      );
    } finally {
      redis = await startRedis(port);
      await h.stop();
      await stop(redis);
    }
  });
});

describe('the failed-authentication limit', () => {
  it('does not count concurrent good requests against it', async () => {
    const h = await startHarness({ RATE_LIMIT_AUTH_FAILURES_MAX: '2' });
    try {
      const results = await Promise.all(
        Array.from({ length: 30 }, () =>
          h.api.get('/orders').set('Authorization', h.basic('manager')),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    } finally {
      await h.stop();
    }
  });
});
