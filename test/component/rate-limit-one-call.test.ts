import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { Harness, orderBody, startHarness, waitUntil } from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';

/*
 * The hot path — a token, or Basic credentials verified within the last minute — checks the
 * per-IP limit, the per-user limit and the failed-login limits in one Redis round trip.
 */

const basic = (username: string, password: string) =>
  'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');

let address = 0;
/** A fresh client address per call (TRUST_PROXY=loopback trusts the test's X-Forwarded-For). */
const freshIp = () => `203.0.113.${++address}`;

/**
 * Counts the Redis round trips that touch rate-limit or failed-login keys: a command on its
 * own, or a pipeline (MULTI … EXEC) once. The order's own enqueue is not counted.
 */
function countLimiterRoundTrips(h: Harness) {
  const redis = h.services.redis;
  const send = redis.sendCommand;
  const trips = new Map<object, boolean>();
  const limiterKeys = [`${h.prefix}:rate-limit:`, `${h.prefix}:login-failures:`];
  redis.sendCommand = ((command, stream) => {
    const pipeline = (stream as { isPipeline?: boolean } | undefined)?.isPipeline;
    const trip = pipeline ? stream! : command;
    const touches = command.args.some(
      (a) => typeof a === 'string' && limiterKeys.some((k) => a.startsWith(k)),
    );
    trips.set(trip, (trips.get(trip) ?? false) || touches);
    return send.call(redis, command, stream);
  }) as typeof redis.sendCommand;
  return {
    count: () => [...trips.values()].filter(Boolean).length,
    restore: () => {
      redis.sendCommand = send;
    },
  };
}

const fallbacks = async (h: Harness) =>
  Object.fromEntries(
    (
      await h.services.metrics.registry.getSingleMetric('rate_limit_store_fallbacks_total')!.get()
    ).values.map((v) => [v.labels.limiter, v.value]),
  );

describe('an authenticated POST /orders', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  const post = (authorization: string) =>
    h.api.post('/orders').set('Authorization', authorization).send(orderBody()).expect(201);

  it('makes one rate-limit round trip to Redis with Basic credentials verified before', async () => {
    await post(h.basic('manager')); // hashes the password and caches the verification
    const trips = countLimiterRoundTrips(h);
    try {
      await post(h.basic('manager'));
      expect(trips.count()).toBe(1);
    } finally {
      trips.restore();
    }
    expect(await h.services.redis.get(`${h.prefix}:rate-limit:principal:user:manager`)).toBe('2');
  });

  it('makes one rate-limit round trip to Redis with a Bearer token', async () => {
    const token = (await h.api.post('/auth/token').set('Authorization', h.basic('alice'))).body
      .access_token;
    await post(`Bearer ${token}`);
    const before = Number(
      await h.services.redis.get(`${h.prefix}:rate-limit:principal:user:alice`),
    );
    const trips = countLimiterRoundTrips(h);
    try {
      await post(`Bearer ${token}`);
      expect(trips.count()).toBe(1);
    } finally {
      trips.restore();
    }
    const after = Number(await h.services.redis.get(`${h.prefix}:rate-limit:principal:user:alice`));
    expect(after).toBe(before + 1);
  });
});

describe('on the one-call path', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({
      RATE_LIMIT_MAX: '5',
      RATE_LIMIT_AUTH_FAILURES_MAX: '2',
      RATE_LIMIT_ACCOUNT_FAILURES_MAX: '2',
    });
  });
  afterEach(async () => h.stop());

  const get = (authorization: string, ip: string) =>
    h.api.get('/orders').set('Authorization', authorization).set('X-Forwarded-For', ip);

  it("limits a token's user across addresses", async () => {
    const token = (await h.api.post('/auth/token').set('Authorization', h.basic('alice'))).body
      .access_token; // the user's first request
    for (let i = 0; i < 4; i++) await get(`Bearer ${token}`, freshIp()).expect(200);
    const res = await get(`Bearer ${token}`, freshIp());
    expect(res.status).toBe(429);
    expect(res.body.detail).toMatch(/for this user/);
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('limits an address across users, without counting the refused request against its user', async () => {
    for (const user of ['manager', 'alice', 'bob'] as const) {
      await get(h.basic(user), freshIp()).expect(200); // caches each verification
    }
    const shared = freshIp();
    for (const user of ['manager', 'alice', 'bob', 'manager', 'alice'] as const) {
      await get(h.basic(user), shared).expect(200);
    }
    const res = await get(h.basic('bob'), shared);
    expect(res.status).toBe(429);
    expect(res.body.detail).toMatch(/from this address/);
    expect(await h.services.redis.get(`${h.prefix}:rate-limit:principal:user:bob`)).toBe('2');
  });

  it('describes the tighter of the two limits in the RateLimit headers', async () => {
    const busy = freshIp();
    await get(h.basic('manager'), freshIp()).expect(200); // manager: 1
    for (let i = 0; i < 3; i++) await get(h.basic('alice'), busy).expect(200); // alice 3, busy 3

    const userTighter = await get(h.basic('alice'), freshIp()).expect(200);
    expect(userTighter.headers['ratelimit-limit']).toBe('5');
    expect(userTighter.headers['ratelimit-remaining']).toBe('1'); // alice 4; the address 1
    expect(userTighter.headers['ratelimit-policy']).toBe('5;w=60');

    const addressTighter = await get(h.basic('manager'), busy).expect(200);
    expect(addressTighter.headers['ratelimit-remaining']).toBe('1'); // busy 4; manager 2

    // Also when the password is checked (bob's first request): busy 5, bob 1.
    const checked = await get(h.basic('bob'), busy).expect(200);
    expect(checked.headers['ratelimit-remaining']).toBe('0');
  });

  it('refuses a locked account with its correct cached credentials, hashing nothing', async () => {
    await get(h.basic('alice'), freshIp()).expect(200);
    for (let i = 0; i < 2; i++) await get(basic('alice', `wrong-${i}`), freshIp()).expect(401);
    const compare = jest.spyOn(h.roles.api.hasher, 'compare');
    try {
      const res = await get(h.basic('alice'), freshIp());
      expect(res.status).toBe(429);
      expect(res.body.detail).toBe('Too many failed authentications; retry later.');
      expect(res.headers['ratelimit-limit']).toBe('2');
      expect(res.headers['ratelimit-remaining']).toBe('0');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(compare).not.toHaveBeenCalled();
    } finally {
      compare.mockRestore();
    }
    // Another account's cached credentials still work.
    await get(h.basic('manager'), freshIp()).expect(200);
    await get(h.basic('manager'), freshIp()).expect(200);
  });

  it('refuses correct cached credentials from an address over its failed-login limit', async () => {
    await get(h.basic('alice'), freshIp()).expect(200);
    const guesser = freshIp();
    for (let i = 0; i < 2; i++) await get(basic(`guess${i}`, 'wrong'), guesser).expect(401);
    const before = (await h.services.metrics.rateLimited.get()).values[0]?.value ?? 0;
    const res = await get(h.basic('alice'), guesser);
    expect(res.status).toBe(429);
    expect(res.body.detail).toBe('Too many failed authentications; retry later.');
    expect((await h.services.metrics.rateLimited.get()).values[0]?.value).toBe(before + 1);
    await get(h.basic('alice'), freshIp()).expect(200);
  });
});

describe('the one-call path with its own Redis', () => {
  let redis: ChildProcess;
  let port: number;
  let h: Harness;
  beforeEach(async () => {
    port = await freePort();
    redis = await startRedis(port);
    h = await startHarness({ RATE_LIMIT_MAX: '3', REDIS_URL: `redis://127.0.0.1:${port}` });
  });
  afterEach(async () => {
    if (redis.exitCode !== null || redis.signalCode !== null) redis = await startRedis(port);
    await h.stop();
    await stop(redis);
  });

  const get = (user: 'manager' | 'alice', ip: string) =>
    h.api.get('/orders').set('Authorization', h.basic(user)).set('X-Forwarded-For', ip);
  const userCount = async (user: string) =>
    Number(await h.services.redis.get(`${h.prefix}:rate-limit:principal:user:${user}`));

  it('still limits per user and per address in memory while Redis is down, and counts the fallbacks', async () => {
    await get('alice', freshIp()).expect(200); // caches the verification
    await stop(redis);
    const shared = freshIp();
    for (let i = 0; i < 3; i++) await get('alice', i === 0 ? shared : freshIp()).expect(200);
    const perUser = await get('alice', shared);
    expect(perUser.status).toBe(429);
    expect(perUser.body.detail).toMatch(/for this user/);
    await get('manager', shared).expect(200); // a password check: its hash, then in memory
    const perAddress = await get('manager', shared);
    expect(perAddress.status).toBe(429);
    expect(perAddress.body.detail).toMatch(/from this address/);
    // alice 4 times in one call each; manager's password check: per IP, refusal, reservation,
    // per user; manager refused per IP.
    expect(await fallbacks(h)).toEqual({ ip: 6, principal: 5, 'login-failures': 6 });
  });

  it('runs its script again after SCRIPT FLUSH, counting in Redis', async () => {
    await get('alice', freshIp()).expect(200);
    await get('alice', freshIp()).expect(200);
    const admin = new Redis(port, '127.0.0.1');
    try {
      await admin.script('FLUSH');
    } finally {
      admin.disconnect();
    }
    await get('alice', freshIp()).expect(200);
    expect(await userCount('alice')).toBe(3);
    expect(await fallbacks(h)).not.toHaveProperty('ip');
  });

  it('runs its script on a restarted Redis, counting there', async () => {
    await get('alice', freshIp()).expect(200);
    await get('alice', freshIp()).expect(200);
    await stop(redis);
    await get('alice', freshIp()).expect(200); // counted in memory
    redis = await startRedis(port);
    await waitUntil(async () => h.services.redis.status === 'ready', { what: 'Redis to be back' });
    const before = await fallbacks(h);
    await get('alice', freshIp()).expect(200);
    expect(await userCount('alice')).toBe(1);
    expect(await fallbacks(h)).toEqual(before);
  });
});
