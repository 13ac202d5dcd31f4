import { Harness, orderBody, startHarness, waitUntil } from '../helpers/harness';
import { hashApiKey } from '../../src/domain/api-key';

/*
 * API keys: managers create, list and revoke them; a key authenticates as Bearer or X-API-Key
 * with its role (a customer key sees only its customer), counts in its own per-user limit, and
 * a bad, expired or revoked key is a 401 that feeds the failed-login throttle like a bad token.
 */

let address = 0;
/** A fresh client address per call (TRUST_PROXY=loopback trusts the test's X-Forwarded-For). */
const freshIp = () => `198.51.100.${++address}`;

async function metric(h: Harness, name: string, labels: Record<string, string>) {
  const values = (await h.services.metrics.registry.getSingleMetric(name)!.get()).values;
  return (
    values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0
  );
}

async function createKey(h: Harness, body: Record<string, unknown>) {
  const res = await h.api.post('/api-keys').set('Authorization', h.basic('manager')).send(body);
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string; [field: string]: unknown };
}

describe('managing API keys', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  it('creates a key shown once, stores only its SHA-256 and lists it without the secret', async () => {
    const created = await createKey(h, { role: 'manager', name: 'nightly job' });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      key: expect.stringMatching(/^osk_[0-9a-f]{16}_[A-Za-z0-9]{40}$/),
      name: 'nightly job',
      role: 'manager',
      customer_id: null,
      created_by: 'manager',
      expires_at: null,
      last_used_at: null,
    });
    expect(created.key.startsWith(`${created.prefix as string}_`)).toBe(true);
    expect(created.key.endsWith(created.last4 as string)).toBe(true);

    const row = await h.services.db('api_keys').where({ id: created.id }).first();
    expect(row.key_hash).toBe(hashApiKey(created.key));
    expect(JSON.stringify(row)).not.toContain(created.key.slice(-40));

    const list = await h.api.get('/api-keys').set('Authorization', h.basic('manager'));
    expect(list.status).toBe(200);
    const listed = list.body.data.find((k: { id: string }) => k.id === created.id);
    expect(listed).toEqual({ ...created, key: undefined });
    expect(JSON.stringify(list.body)).not.toContain(created.key);
    expect(list.headers['cache-control']).toBe('no-store');
  });

  it('revokes a key: 204, then it is no longer listed and a second revoke is 404', async () => {
    const { id } = await createKey(h, { role: 'manager' });
    const del = await h.api.delete(`/api-keys/${id}`).set('Authorization', h.basic('manager'));
    expect(del.status).toBe(204);
    const list = await h.api.get('/api-keys').set('Authorization', h.basic('manager'));
    expect(list.body.data.map((k: { id: string }) => k.id)).not.toContain(id);
    const again = await h.api.delete(`/api-keys/${id}`).set('Authorization', h.basic('manager'));
    expect(again.status).toBe(404);
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers 404 problem+json for an unknown id', async () => {
    const res = await h.api
      .delete('/api-keys/0123456789abcdef')
      .set('Authorization', h.basic('manager'));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ status: 404, type: expect.stringMatching(/not-found$/) });
  });

  it('pages the listing newest first with an opaque cursor', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createKey(h, { role: 'manager' })).id);
    const first = await h.api.get('/api-keys?limit=2').set('Authorization', h.basic('manager'));
    expect(first.body.data.map((k: { id: string }) => k.id)).toEqual([ids[2], ids[1]]);
    const second = await h.api
      .get(`/api-keys?limit=2&cursor=${first.body.next_cursor}`)
      .set('Authorization', h.basic('manager'));
    expect(second.body.data[0].id).toBe(ids[0]);
  });

  it.each([
    ['a customer key without customer_id', { role: 'customer' }, '/customer_id'],
    ['a manager key with a customer_id', { role: 'manager', customer_id: 'c-1' }, '/customer_id'],
    ['an unknown role', { role: 'admin' }, '/role'],
    [
      'an expiry in the past',
      { role: 'manager', expires_at: '2020-01-01T00:00:00Z' },
      '/expires_at',
    ],
    ['an expiry that is not a time', { role: 'manager', expires_at: 'tomorrow' }, '/expires_at'],
    ['a name over 100 characters', { role: 'manager', name: 'x'.repeat(101) }, '/name'],
    ['an unknown field', { role: 'manager', scopes: ['all'] }, '/scopes'],
    ['a bad customer id', { role: 'customer', customer_id: 'c 1' }, '/customer_id'],
  ])('refuses %s with 400 problem+json', async (_name, body, path) => {
    const res = await h.api.post('/api-keys').set('Authorization', h.basic('manager')).send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(res.body.errors)).toContain(path === '/scopes' ? 'scopes' : path);
  });

  it('answers 403 to a customer on every API-key operation', async () => {
    const { id } = await createKey(h, { role: 'manager' });
    const alice = h.basic('alice');
    expect(
      (await h.api.post('/api-keys').set('Authorization', alice).send({ role: 'manager' })).status,
    ).toBe(403);
    expect((await h.api.get('/api-keys').set('Authorization', alice)).status).toBe(403);
    expect((await h.api.delete(`/api-keys/${id}`).set('Authorization', alice)).status).toBe(403);
  });

  it('answers 403 to an API key, even a manager key, on the API-key operations', async () => {
    const { key, id } = await createKey(h, { role: 'manager' });
    const post = await h.api.post('/api-keys').set('X-API-Key', key).send({ role: 'manager' });
    expect(post.status).toBe(403);
    expect((await h.api.get('/api-keys').set('Authorization', `Bearer ${key}`)).status).toBe(403);
    expect((await h.api.delete(`/api-keys/${id}`).set('X-API-Key', key)).status).toBe(403);
  });
});

describe('authenticating with an API key', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  it('accepts a key as Authorization: Bearer and as X-API-Key, and counts the uses', async () => {
    const { key } = await createKey(h, { role: 'manager' });
    const before = await metric(h, 'api_key_authentications_total', { result: 'ok' });
    const bearer = await h.api.get('/orders').set('Authorization', `Bearer ${key}`);
    expect(bearer.status).toBe(200);
    const header = await h.api.get('/orders').set('X-API-Key', key);
    expect(header.status).toBe(200);
    expect(await metric(h, 'api_key_authentications_total', { result: 'ok' })).toBe(before + 2);
  });

  it('records last_used_at at most once a minute, not on every request', async () => {
    const { key, id } = await createKey(h, { role: 'manager' });
    await h.api.get('/orders').set('X-API-Key', key).expect(200);
    const first = await waitUntil(
      async () => (await h.services.db('api_keys').where({ id }).first()).last_used_at as Date,
      { what: 'last_used_at' },
    );
    await h.api.get('/orders').set('X-API-Key', key).expect(200);
    await h.api.get('/orders').set('X-API-Key', key).expect(200);
    const row = await h.services.db('api_keys').where({ id }).first();
    expect(row.last_used_at.getTime()).toBe(first.getTime());
    const listed = await h.api.get('/api-keys').set('Authorization', h.basic('manager'));
    expect(listed.body.data.find((k: { id: string }) => k.id === id).last_used_at).toBe(
      first.toISOString(),
    );
  });

  it('records who acted: a cancel by a key names the key in the history', async () => {
    const { key, id } = await createKey(h, { role: 'manager' });
    const placed = await h.api.post('/orders').set('X-API-Key', key).send(orderBody()).expect(201);
    const cancelled = await h.api
      .post(`/orders/${placed.body.order_id}/cancel`)
      .set('X-API-Key', key)
      .expect(200);
    expect(cancelled.body.status_history.at(-1)).toMatchObject({ actor: `api-key:${id}` });
  });

  it('scopes a customer key to its customer exactly like a customer user', async () => {
    const { key } = await createKey(h, { role: 'customer', customer_id: 'c-alice' });
    const auth = { 'X-API-Key': key };
    const own = await h.api
      .post('/orders')
      .set(auth)
      .send(orderBody({ customer_id: undefined }));
    expect(own.status).toBe(201);
    expect(own.body.customer_id).toBe('c-alice');
    const others = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ customer_id: 'c-bob' }))
      .expect(201);
    expect((await h.api.get(`/orders/${others.body.order_id}`).set(auth)).status).toBe(404);
    expect((await h.api.get(`/orders/${own.body.order_id}`).set(auth)).status).toBe(200);
    const list = await h.api.get('/orders').set(auth).expect(200);
    expect(list.body.data.every((o: { customer_id: string }) => o.customer_id === 'c-alice')).toBe(
      true,
    );
    expect((await h.api.get('/orders?customer_id=c-bob').set(auth)).status).toBe(403);
    expect((await h.api.get('/customers/c-bob/summary').set(auth)).status).toBe(403);
    expect(
      (
        await h.api
          .post('/orders')
          .set(auth)
          .send(orderBody({ customer_id: 'c-bob' }))
      ).status,
    ).toBe(403);
  });

  it.each([
    ['a well-formed key nobody created', `osk_0123456789abcdef_${'A'.repeat(40)}`],
    ['a known id with the wrong secret', 'WRONG_SECRET'],
    ['a key of the wrong shape', 'osk_nope'],
    ['garbage', 'not-a-key'],
  ])('refuses %s with 401 and counts it against the address', async (_name, raw) => {
    let key = raw;
    if (raw === 'WRONG_SECRET')
      key = `${(await createKey(h, { role: 'manager' })).prefix as string}_${'B'.repeat(40)}`;
    const ip = freshIp();
    const before = await metric(h, 'api_key_authentications_total', { result: 'invalid' });
    const failedBefore = await metric(h, 'auth_failures_total', { method: 'api_key' });
    for (const res of [
      await h.api.get('/orders').set('X-API-Key', key).set('X-Forwarded-For', ip),
      await h.api.get('/orders').set('Authorization', `Bearer ${key}`).set('X-Forwarded-For', ip),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="order-service", Bearer');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect(await h.services.redis.get(`${h.prefix}:login-failures:ip:${ip}`)).toBe('2');
    const expected = key.startsWith('osk_') ? 2 : 1; // a non-key Bearer is judged as a JWT
    expect(await metric(h, 'api_key_authentications_total', { result: 'invalid' })).toBe(
      before + expected,
    );
    expect(await metric(h, 'auth_failures_total', { method: 'api_key' })).toBe(
      failedBefore + expected,
    );
  });

  it('refuses a revoked key with 401, counted as revoked and as a failed login', async () => {
    const { key, id } = await createKey(h, { role: 'manager' });
    await h.api.get('/orders').set('X-API-Key', key).expect(200);
    await h.api.delete(`/api-keys/${id}`).set('Authorization', h.basic('manager')).expect(204);
    const ip = freshIp();
    const before = await metric(h, 'api_key_authentications_total', { result: 'revoked' });
    const res = await h.api.get('/orders').set('X-API-Key', key).set('X-Forwarded-For', ip);
    expect(res.status).toBe(401);
    expect(res.body.type).toMatch(/unauthenticated$/);
    expect(await metric(h, 'api_key_authentications_total', { result: 'revoked' })).toBe(
      before + 1,
    );
    expect(await h.services.redis.get(`${h.prefix}:login-failures:ip:${ip}`)).toBe('1');
  });

  it('refuses a key once it has expired, counted as expired and as a failed login', async () => {
    const expiresAt = new Date(Date.now() + 1500);
    const { key } = await createKey(h, { role: 'manager', expires_at: expiresAt.toISOString() });
    await h.api.get('/orders').set('X-API-Key', key).expect(200);
    const ip = freshIp();
    const before = await metric(h, 'api_key_authentications_total', { result: 'expired' });
    const refused = await waitUntil(
      async () => {
        const res = await h.api.get('/orders').set('X-API-Key', key).set('X-Forwarded-For', ip);
        return res.status === 401 && res;
      },
      { timeoutMs: 5000, what: 'the key to expire' },
    );
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt.getTime());
    expect(refused.body.type).toMatch(/unauthenticated$/);
    expect(await metric(h, 'api_key_authentications_total', { result: 'expired' })).toBe(
      before + 1,
    );
    expect(await h.services.redis.get(`${h.prefix}:login-failures:ip:${ip}`)).toBe('1');
  });
});

/** Redis round trips touching rate-limit or failed-login keys (a pipeline counts once). */
function countLimiterRoundTrips(h: Harness) {
  const redis = h.services.redis;
  const send = redis.sendCommand;
  const trips = new Set<object>();
  const limiterKeys = [`${h.prefix}:rate-limit:`, `${h.prefix}:login-failures:`];
  redis.sendCommand = ((command, stream) => {
    const pipeline = (stream as { isPipeline?: boolean } | undefined)?.isPipeline;
    if (
      command.args.some((a) => typeof a === 'string' && limiterKeys.some((k) => a.startsWith(k)))
    ) {
      trips.add(pipeline ? stream! : command);
    }
    return send.call(redis, command, stream);
  }) as typeof redis.sendCommand;
  return {
    count: () => trips.size,
    restore: () => {
      redis.sendCommand = send;
    },
  };
}

describe('API keys and the per-user rate limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ RATE_LIMIT_MAX: '3' });
  });
  afterAll(async () => h.stop());

  it("gives each key a budget of its own, counted in the request's one rate-limit call", async () => {
    const { key, id } = await createKey(h, { role: 'customer', customer_id: 'c-alice' });
    const use = (ip: string) =>
      h.api.get('/orders').set('X-API-Key', key).set('X-Forwarded-For', ip);
    expect((await use(freshIp())).status).toBe(200);
    const trips = countLimiterRoundTrips(h);
    try {
      expect((await use(freshIp())).status).toBe(200);
      expect(trips.count()).toBe(1);
    } finally {
      trips.restore();
    }
    expect((await use(freshIp())).status).toBe(200);
    expect(await h.services.redis.get(`${h.prefix}:rate-limit:principal:api-key:${id}`)).toBe('3');
    const refused = await use(freshIp());
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toMatch(/for this user/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The customer's own user has its own budget.
    const alice = await h.api
      .get('/orders')
      .set('Authorization', h.basic('alice'))
      .set('X-Forwarded-For', freshIp());
    expect(alice.status).toBe(200);
  });
});
