import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { SignJWT } from 'jose';
import { createHttpServer } from '../../src/entry-points/http-server';
import { saveUser } from '../../src/domain/manage-users';
import { Harness, JWT_SECRET, orderBody, startHarness, waitUntil } from '../helpers/harness';

/*
 * Issue 8, items 2 and 4-8: password guessing, token lifetime, usernames, client addresses and
 * what a 409 tells a customer.
 */

const basic = (username: string, password: string) =>
  'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');

let address = 0;
/** A fresh client address per call (TRUST_PROXY=loopback trusts the test's X-Forwarded-For). */
const freshIp = () => `198.51.100.${++address}`;

describe('password guessing', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      RATE_LIMIT_AUTH_FAILURES_MAX: '5',
      RATE_LIMIT_ACCOUNT_FAILURES_MAX: '8',
    });
  });
  afterAll(async () => h.stop());

  it('hashes off the event loop: wrong logins cost the main thread little more than requests that hash nothing', async () => {
    const start = performance.now();
    bcrypt.hashSync('calibration', 10);
    const oneHashMs = performance.now() - start;

    /** Main-thread busy time for 24 concurrent wrong logins with these usernames. */
    async function busyFor(username: (i: number) => string): Promise<number> {
      const before = performance.eventLoopUtilization();
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          h.api
            .get('/orders')
            .set('Authorization', basic(username(i), `wrong-${i}`))
            .set('X-Forwarded-For', freshIp())
            .expect(401),
        ),
      );
      return performance.eventLoopUtilization(before).active;
    }
    // Usernames no user can have are refused without a hash: the cost of the requests alone.
    const requestsAlone = await busyFor((i) => `no such user ${i}`);
    const withHashes = await busyFor((i) => `guess${i}`);
    // On the main thread the 24 hashes would add 24 × oneHashMs.
    expect(withHashes - requestsAlone).toBeLessThan(24 * oneHashMs * 0.5);
  });

  it('evaluates no more guesses than the limit, however many arrive at once', async () => {
    const compare = jest.spyOn(h.roles.api.hasher, 'compare');
    try {
      const ip = freshIp();
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          h.api
            .get('/orders')
            .set('Authorization', basic(`burst${i}`, `guess-${i}`))
            .set('X-Forwarded-For', ip),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(compare.mock.calls.length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(55);
    } finally {
      compare.mockRestore();
    }
  });

  it('counts a wrong login whose client hung up before the answer', async () => {
    const server = createHttpServer(h.services.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const ip = freshIp();
    try {
      for (let i = 0; i < 5; i++) {
        const socket = net.connect(port, '127.0.0.1');
        socket.write(
          `GET /orders HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${ip}\r\n` +
            `Authorization: ${basic('manager', `hang-up-${i}`)}\r\n\r\n`,
        );
        await new Promise((resolve) => socket.once('connect', resolve));
        socket.destroy();
      }
      await waitUntil(
        async () =>
          (
            await h.api
              .get('/orders')
              .set('Authorization', h.basic('manager'))
              .set('X-Forwarded-For', ip)
          ).status === 429,
        { what: 'the address to be refused' },
      );
    } finally {
      server.close();
    }
  });

  it('does not count requests without credentials as failed logins', async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) {
      await h.api.get('/orders').set('X-Forwarded-For', ip).expect(401);
    }
    await h.api
      .get('/orders')
      .set('Authorization', h.basic('manager'))
      .set('X-Forwarded-For', ip)
      .expect(200);
  });

  it('refuses a good password from an address over its limit, and counts the refusal', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      await h.api
        .get('/orders')
        .set('Authorization', basic('alice', `nope-${i}`))
        .set('X-Forwarded-For', ip)
        .expect(401);
    }
    const before = (await h.services.metrics.rateLimited.get()).values[0]?.value ?? 0;
    const res = await h.api
      .get('/orders')
      .set('Authorization', h.basic('alice'))
      .set('X-Forwarded-For', ip);
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.headers['ratelimit-limit']).toBe('5');
    expect(res.headers['ratelimit-remaining']).toBe('0');
    expect((await h.services.metrics.rateLimited.get()).values[0]?.value).toBe(before + 1);
  });

  it('limits failures per account across addresses, answering like the per-address limit', async () => {
    const account = 'bob';
    for (let i = 0; i < 8; i++) {
      await h.api
        .get('/orders')
        .set('Authorization', basic(account, `spray-${i}`))
        .set('X-Forwarded-For', freshIp())
        .expect(401);
    }
    const locked = await h.api
      .get('/orders')
      .set('Authorization', basic(account, 'spray-9'))
      .set('X-Forwarded-For', freshIp());
    expect(locked.status).toBe(429);

    // An unknown account is limited the same way, with the same answer.
    for (let i = 0; i < 8; i++) {
      await h.api
        .get('/orders')
        .set('Authorization', basic('nobody-here', `spray-${i}`))
        .set('X-Forwarded-For', freshIp())
        .expect(401);
    }
    const unknown = await h.api
      .get('/orders')
      .set('Authorization', basic('nobody-here', 'spray-9'))
      .set('X-Forwarded-For', freshIp());
    expect(unknown.status).toBe(429);
    expect({ ...unknown.body, request_id: 'x' }).toEqual({ ...locked.body, request_id: 'x' });

    // Per address, the answer is the same too.
    const ip = freshIp();
    for (let i = 0; i < 5; i++) {
      await h.api
        .get('/orders')
        .set('Authorization', basic(`addr-${i}`, 'x-password'))
        .set('X-Forwarded-For', ip)
        .expect(401);
    }
    const byAddress = await h.api
      .get('/orders')
      .set('Authorization', basic('someone', 'x-password'))
      .set('X-Forwarded-For', ip);
    expect(byAddress.status).toBe(429);
    expect({ ...byAddress.body, request_id: 'x' }).toEqual({ ...locked.body, request_id: 'x' });
    expect(
      Object.keys(byAddress.headers)
        .filter((k) => k.startsWith('ratelimit'))
        .sort(),
    ).toEqual(
      Object.keys(locked.headers)
        .filter((k) => k.startsWith('ratelimit'))
        .sort(),
    );
  });

  it('locks an account only for a short window', async () => {
    const key = `${h.prefix}:login-failures:account:bob`;
    const ttl = await h.services.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});

describe('password hashing under a flood', () => {
  it('answers 503 with Retry-After beyond a bounded queue, never a 500', async () => {
    const h = await startHarness(
      { RATE_LIMIT_AUTH_FAILURES_MAX: '1000', RATE_LIMIT_ACCOUNT_FAILURES_MAX: '1000' },
      { hashing: { threads: 1, maxQueue: 2 } },
    );
    try {
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          h.api
            .get('/orders')
            .set('Authorization', basic(`flood${i}`, `guess-${i}`))
            .set('X-Forwarded-For', freshIp()),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
      const busy = results.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy[0]!.headers['retry-after']).toBe('1');
      expect(busy[0]!.headers['content-type']).toMatch(/^application\/problem\+json/);
    } finally {
      await h.stop();
    }
  });
});

describe('tokens', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  const secret = new TextEncoder().encode(JWT_SECRET);
  const bearer = (token: string) => h.api.get('/orders').set('Authorization', `Bearer ${token}`);

  async function tokenFor(username: string, password: string): Promise<string> {
    const res = await h.api.post('/auth/token').set('Authorization', basic(username, password));
    expect(res.status).toBe(200);
    return res.body.access_token;
  }

  it('stop working once their user is replaced', async () => {
    await saveUser(h.services.repositories.users, {
      username: 'carol',
      role: 'manager',
      password: 'carol-password',
    });
    const token = await tokenFor('carol', 'carol-password');
    expect((await bearer(token)).status).toBe(200);
    await saveUser(h.services.repositories.users, {
      username: 'carol',
      role: 'customer',
      customerId: 'c-carol',
      password: 'carol-new-password',
    });
    await waitUntil(async () => (await bearer(token)).status === 401, {
      what: 'the old token to be refused',
    });
    const fresh = await tokenFor('carol', 'carol-new-password');
    const res = await h.api.get('/customers/summaries').set('Authorization', `Bearer ${fresh}`);
    expect(res.status).toBe(403);
  });

  it('stop working once their user is removed', async () => {
    await saveUser(h.services.repositories.users, {
      username: 'dave',
      role: 'manager',
      password: 'dave-password',
    });
    const token = await tokenFor('dave', 'dave-password');
    await h.services.db('users').where('username', 'dave').delete();
    await waitUntil(async () => (await bearer(token)).status === 401, {
      what: 'the token of a removed user to be refused',
    });
  });

  it('are refused without exp', async () => {
    const token = await new SignJWT({ role: 'manager', ver: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('manager')
      .setIssuer('order-service')
      .setIssuedAt()
      .sign(secret);
    expect((await bearer(token)).status).toBe(401);
  });

  it('are refused when they claim a longer life than the service issues', async () => {
    const token = await new SignJWT({ role: 'manager', ver: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('manager')
      .setIssuer('order-service')
      .setIssuedAt()
      .setExpirationTime('30d')
      .sign(secret);
    expect((await bearer(token)).status).toBe(401);
  });

  it('keep working for a user who was not replaced', async () => {
    const token = await tokenFor('manager', 'manager-password');
    expect((await bearer(token)).status).toBe(200);
  });
});

describe('usernames and passwords', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  it('compares usernames exactly: a trailing space is another user', async () => {
    const res = await h.api.get('/orders').set('Authorization', basic('alice ', 'alice-password'));
    expect(res.status).toBe(401);
  });

  it('refuses to save a password longer than bcrypt reads (72 bytes)', async () => {
    await expect(
      saveUser(h.services.repositories.users, {
        username: 'erin',
        role: 'manager',
        password: 'é'.repeat(37), // 74 bytes
      }),
    ).rejects.toThrow(/at most 72 bytes/);
  });

  it('does not accept extra bytes after a 72-byte password', async () => {
    const password = 'p'.repeat(72);
    await saveUser(h.services.repositories.users, { username: 'fred', role: 'manager', password });
    await h.api.get('/orders').set('Authorization', basic('fred', password)).expect(200);
    await h.api
      .get('/orders')
      .set('Authorization', basic('fred', password + 'anything'))
      .expect(401);
  });
});

describe('client addresses', () => {
  it('never takes a forwarded value that is not an IP address as the client', async () => {
    const h = await startHarness({ RATE_LIMIT_MAX: '3' });
    try {
      const statuses: number[] = [];
      for (const forged of ['x1', 'x2', 'x3', 'x4', 'not-an-ip']) {
        const res = await h.api
          .get('/orders')
          .set('Authorization', h.basic('manager'))
          .set('X-Forwarded-For', forged);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const ips = h.logs
        .map((line) => JSON.parse(line) as { message?: string; ip?: string })
        .filter((l) => l.message === 'request')
        .map((l) => l.ip);
      expect(ips.every((ip) => ip === '::ffff:127.0.0.1' || ip === '127.0.0.1')).toBe(true);
    } finally {
      await h.stop();
    }
  });
});

describe('what a 409 reveals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  it('does not name order ids that belong to other customers', async () => {
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ order_id: 'bob-secret-1', customer_id: 'c-bob' }))
      .expect(201);
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('alice'))
      .send([orderBody({ order_id: 'alice-guess-1' }), orderBody({ order_id: 'bob-secret-1' })]);
    expect(res.status).toBe(409);
    expect(res.text).not.toContain('bob-secret-1');
    expect(
      await h.services.db('orders').where('order_id', 'alice-guess-1').first(),
    ).toBeUndefined();
  });

  it("still names a customer's own ids", async () => {
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('alice'))
      .send(orderBody({ order_id: 'alice-own-1' }))
      .expect(201);
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('alice'))
      .send(orderBody({ order_id: 'alice-own-1' }));
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain('alice-own-1');
  });
});
