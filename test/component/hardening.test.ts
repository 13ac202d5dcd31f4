import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHttpServer, HTTP_TIMEOUTS } from '../../src/entry-points/http-server';
import { USER_CACHE_TTL_MS } from '../../src/data-access/user-repository';
import { saveUser } from '../../src/domain/manage-users';
import { Harness, orderBody, startHarness, USERS, waitUntil } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

describe('Basic authentication cost', () => {
  afterEach(() => jest.restoreAllMocks());

  it('verifies a password hash once, then serves repeated requests from the cache', async () => {
    const compare = jest.spyOn(h.roles.api.hasher, 'compare');
    for (let i = 0; i < 20; i++) {
      expect((await h.api.get('/orders').set('Authorization', h.basic('alice'))).status).toBe(200);
    }
    expect(compare.mock.calls.length).toBeLessThanOrEqual(1);
  });

  it('looks the user up in MySQL once, not on every request', async () => {
    const userQueries: string[] = [];
    const listen = (q: { sql: string }) => {
      if (/from `users`/.test(q.sql)) userQueries.push(q.sql);
    };
    h.services.db.on('query', listen);
    try {
      for (let i = 0; i < 20; i++) {
        await h.api.get('/orders').set('Authorization', h.basic('bob')).expect(200);
      }
    } finally {
      h.services.db.off('query', listen);
    }
    expect(userQueries.length).toBeLessThanOrEqual(1);
  });

  it('spends a hash comparison on unknown users too, so they take as long as wrong passwords', async () => {
    const compare = jest.spyOn(h.roles.api.hasher, 'compare');
    const ghost = 'Basic ' + Buffer.from('ghost:whatever').toString('base64');
    expect((await h.api.get('/orders').set('Authorization', ghost)).status).toBe(401);
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it('never caches a wrong password', async () => {
    const compare = jest.spyOn(h.roles.api.hasher, 'compare');
    const wrong = 'Basic ' + Buffer.from('alice:nope-nope').toString('base64');
    await h.api.get('/orders').set('Authorization', wrong).expect(401);
    await h.api.get('/orders').set('Authorization', wrong).expect(401);
    expect(compare).toHaveBeenCalledTimes(2);
  });

  it('takes a role change made elsewhere into account within the user cache time', async () => {
    await h.api.get('/customers/summaries').set('Authorization', h.basic('bob')).expect(403);
    // As `users add` in another process, or another replica, would.
    await h.services
      .db('users')
      .where('username', 'bob')
      .update({ role: 'manager', customer_id: null });
    await waitUntil(
      async () =>
        (await h.api.get('/customers/summaries').set('Authorization', h.basic('bob'))).status ===
        200,
      { timeoutMs: USER_CACHE_TTL_MS + 5_000, intervalMs: 200, what: 'the new role' },
    );
  });

  it('takes a change saved through this process into account at once', async () => {
    await h.api.get('/customers/summaries').set('Authorization', h.basic('alice')).expect(403);
    await saveUser(h.services.repositories.users, {
      ...USERS.alice,
      role: 'manager',
      customerId: undefined,
    });
    await h.api.get('/customers/summaries').set('Authorization', h.basic('alice')).expect(200);
    await saveUser(h.services.repositories.users, USERS.alice);
  });
});

describe('mass assignment', () => {
  it.each([
    ['status'],
    ['version'],
    ['total'],
    ['created_at'],
    ['completed_at'],
    ['status_history'],
  ])('refuses a client-set %s', async (field) => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ [field]: field === 'version' ? 9 : 'x' }));
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(`/${field}`);
  });
});

describe('security headers', () => {
  it('sends a locked-down policy and no-store on API responses', async () => {
    const res = await h.api.get('/orders').set('Authorization', h.basic('manager'));
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('lets /docs load its own scripts and styles', async () => {
    const res = await h.api.get('/docs');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
  });

  it('keeps CORS closed by default', async () => {
    const res = await h.api.get('/ping').set('Origin', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await h.api
      .options('/orders')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS_ORIGINS', () => {
  it('opens CORS to the listed origins only', async () => {
    const open = await startHarness({ CORS_ORIGINS: 'https://shop.example' });
    try {
      const preflight = await open.api
        .options('/orders')
        .set('Origin', 'https://shop.example')
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'authorization,content-type,idempotency-key');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example');
      expect(preflight.headers['access-control-allow-headers']).toMatch(/Idempotency-Key/);
      const other = await open.api.get('/ping').set('Origin', 'https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const exposed = await open.api.get('/ping').set('Origin', 'https://shop.example');
      expect(exposed.headers['access-control-expose-headers']).toMatch(/ETag/);
    } finally {
      await open.stop();
    }
  });
});

describe('slow clients', () => {
  it('uses bounded header and request timeouts', () => {
    expect(HTTP_TIMEOUTS.headersTimeout).toBeLessThanOrEqual(30_000);
    expect(HTTP_TIMEOUTS.requestTimeout).toBeGreaterThanOrEqual(HTTP_TIMEOUTS.headersTimeout);
    expect(HTTP_TIMEOUTS.keepAliveTimeout).toBeGreaterThan(60_000);
  });

  it('drops a client that never finishes its headers (slowloris)', async () => {
    const server = createHttpServer(h.services.app, {
      ...HTTP_TIMEOUTS,
      headersTimeout: 300,
      requestTimeout: 600,
      connectionsCheckingInterval: 100,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const socket = net.connect(port, '127.0.0.1');
      socket.write('GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      const answer = await new Promise<string>((resolve) => {
        let data = '';
        socket.on('data', (d) => (data += d.toString()));
        socket.on('close', () => resolve(data));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      server.close();
    }
  });
});
