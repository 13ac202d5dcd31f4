import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createDb } from '../../src/data-access/db';
import { createUserRepository } from '../../src/data-access/user-repository';
import { saveUser } from '../../src/domain/manage-users';
import { createTestDatabase, dropDatabase, JWT_SECRET } from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { runMain } from '../helpers/service-process';
import { ClientResponse, httpRequest, httpsRequest, Nginx, startNginx } from './helpers/nginx';
import { accessLine } from './helpers/service';
import { Service, startRole } from '../helpers/service-process';

/*
 * deploy/nginx/order-service.conf, run by a real nginx with a throwaway certificate, in front
 * of a real API process started with TRUST_PROXY=1 (nginx is its one hop, as ingress-nginx is
 * in Kubernetes). Every "real client" is its own loopback source address (all of 127/8 is
 * loopback on Linux), so each test has a rate-limit budget of its own.
 */

const RATE_LIMIT_MAX = 5;
const PASSWORD = 'client-password';

let redis: ChildProcess;
let databaseUrl: string;
let api: Service;
let nginx: Nginx;

beforeAll(async () => {
  const redisPort = await freePort();
  redis = await startRedis(redisPort);
  databaseUrl = await createTestDatabase();
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    JWT_SECRET,
    TRUST_PROXY: '1',
    RATE_LIMIT_MAX: String(RATE_LIMIT_MAX),
    RATE_LIMIT_WINDOW_SECONDS: '600',
  };
  expect((await runMain(['migrate'], env)).code).toBe(0);
  await createClientUsers(['a', 'b', 'c', 'd']);
  api = await startRole('api', env);
  nginx = await startNginx({ upstreamPort: api.port });
}, 60_000);

afterAll(async () => {
  await nginx?.stop();
  await api?.stop();
  if (redis) await stop(redis);
  if (databaseUrl) await dropDatabase(databaseUrl);
});

/** One manager per client, so no per-user limit ever mixes into a per-address test. */
async function createClientUsers(names: string[]): Promise<void> {
  const db = createDb(databaseUrl, { min: 0, max: 1 });
  try {
    const users = createUserRepository(db);
    for (const name of names) {
      await saveUser(users, { username: `client-${name}`, role: 'manager', password: PASSWORD });
    }
  } finally {
    await db.destroy();
  }
}

const basic = (name: string) =>
  'Basic ' + Buffer.from(`client-${name}:${PASSWORD}`).toString('base64');

const fromNginx = (res: ClientResponse) => {
  expect(res.headers['content-type']).toMatch(/^text\/html/);
  expect(res.headers['x-request-id']).toBeUndefined();
};

describe('what the API sees behind nginx', () => {
  it('the real client address and https, with the request id carried through', async () => {
    const requestId = `proxy-${randomUUID()}`;
    const res = await httpsRequest(nginx, {
      path: '/ping',
      headers: { 'X-Request-Id': requestId },
      from: '127.0.0.2',
    });

    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe(requestId);
    const line = await accessLine(api, requestId);
    expect(line).toMatchObject({ ip: '127.0.0.2', protocol: 'https', route: '/ping' });
  });

  it('an id nginx made when the client sent none', async () => {
    const res = await httpsRequest(nginx, { path: '/ping', from: '127.0.0.2' });

    // nginx's $request_id is 32 hex digits; the API's own ids are UUIDs.
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    await accessLine(api, res.headers['x-request-id'] as string);
  });

  it('never the address or scheme a client claims in forwarding headers', async () => {
    const requestId = `spoof-${randomUUID()}`;
    const res = await httpsRequest(nginx, {
      path: '/ping',
      headers: {
        'X-Request-Id': requestId,
        'X-Forwarded-For': '203.0.113.7, 198.51.100.23',
        'X-Forwarded-Proto': 'http',
        'X-Forwarded-Host': 'evil.example',
        'X-Real-IP': '203.0.113.8',
        Forwarded: 'for=203.0.113.9;proto=http',
      },
      from: '127.0.0.3',
    });

    expect(res.status).toBe(200);
    expect(await accessLine(api, requestId)).toMatchObject({ ip: '127.0.0.3', protocol: 'https' });
  });
});

describe('rate limits', () => {
  it("the API's limiter counts the real client, whatever X-Forwarded-For each request claims", async () => {
    const list = (i: number) =>
      httpsRequest(nginx, {
        path: '/orders?limit=1',
        headers: { Authorization: basic('a'), 'X-Forwarded-For': `198.51.100.${i}` },
        from: '127.0.0.4',
      });
    for (let i = 1; i <= RATE_LIMIT_MAX; i++) expect((await list(i)).status).toBe(200);

    const limited = await list(RATE_LIMIT_MAX + 1);

    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(limited.body)).toMatchObject({ status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Object.keys(limited.headers).filter((h) => h.startsWith('ratelimit'))).not.toEqual([]);
  });

  it('another client address keeps a budget of its own', async () => {
    const list = (name: string, from: string) =>
      httpsRequest(nginx, {
        path: '/orders?limit=1',
        headers: { Authorization: basic(name) },
        from,
      });
    for (let i = 0; i < RATE_LIMIT_MAX; i++) await list('b', '127.0.0.5');
    expect((await list('b', '127.0.0.5')).status).toBe(429);

    const other = await list('c', '127.0.0.6');

    expect(other.status).toBe(200);
    expect(other.headers['ratelimit-remaining']).toBe(String(RATE_LIMIT_MAX - 1));
  });

  it("nginx's own limit_req answers 429 before the API sees the request", async () => {
    // The shipped zone and location with a rate no test can stay under: one request a minute
    // plus a burst of one.
    const tight = await startNginx({
      upstreamPort: api.port,
      limitReq: { rate: '1r/m', burst: 1 },
    });
    try {
      const ping = (requestId: string) =>
        httpsRequest(tight, {
          path: '/ping',
          headers: { 'X-Request-Id': requestId },
          from: '127.0.0.7',
        });
      expect((await ping(`tight-1-${randomUUID()}`)).status).toBe(200);
      expect((await ping(`tight-2-${randomUUID()}`)).status).toBe(200);

      const rejected = await ping(`tight-3-${randomUUID()}`);

      expect(rejected.status).toBe(429);
      fromNginx(rejected);
      // The zone is per client address: another client still gets through.
      const other = await httpsRequest(tight, { path: '/ping', from: '127.0.0.8' });
      expect(other.status).toBe(200);
    } finally {
      await tight.stop();
    }
  });
});

describe('request bodies', () => {
  const MiB = 1024 * 1024;
  const post = (body: string, from: string, chunked = false) =>
    httpsRequest(nginx, {
      method: 'POST',
      path: '/orders',
      headers: { Authorization: basic('d'), 'Content-Type': 'application/json' },
      body,
      chunked,
      from,
    });
  // Valid JSON of exactly `bytes` bytes.
  const jsonOf = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - 10) });

  it('a body over 1 MiB gets 413 from nginx', async () => {
    const res = await post(jsonOf(MiB + 1), '127.0.0.9');

    expect(res.status).toBe(413);
    fromNginx(res);
  });

  it('also when it comes chunked, without a Content-Length', async () => {
    const res = await post(jsonOf(MiB + 1), '127.0.0.10', true);

    expect(res.status).toBe(413);
    fromNginx(res);
  });

  it('a body of exactly 1 MiB reaches the API, which judges it itself', async () => {
    const res = await post(jsonOf(MiB), '127.0.0.11');

    expect(res.status).toBe(400); // not an order, but not too large for either of them
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});

describe('the rest of the edge', () => {
  it('plain HTTP only redirects to https', async () => {
    const res = await httpRequest(nginx, {
      path: '/orders?limit=1',
      headers: { Host: 'orders.example.com' },
    });

    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://orders.example.com/orders?limit=1');
  });

  it('/metrics is never proxied', async () => {
    const res = await httpsRequest(nginx, { path: '/metrics' });

    expect(res.status).toBe(404);
    fromNginx(res);
  });

  it('nginx does not announce its version', async () => {
    const res = await httpsRequest(nginx, { path: '/ping' });

    expect(res.headers.server).toBe('nginx');
  });
});
