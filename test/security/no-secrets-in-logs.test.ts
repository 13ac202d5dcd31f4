import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createDb } from '../../src/data-access/db';
import {
  createTestDatabase,
  dropDatabase,
  MYSQL_URL,
  orderBody,
  uniqueName,
  waitUntil,
} from '../helpers/harness';
import { freePort, stop, waitForPort } from '../helpers/processes';
import { collect, startMain } from '../helpers/service-process';
import { logLines } from './helpers/service';
import { Service, startRole } from '../helpers/service-process';

/*
 * A real `all` process whose every secret is set — a MySQL user with a password, a Redis
 * password, ADMIN_PASSWORD, JWT_SECRET — driven through Basic and Bearer requests, token
 * issuance, failed logins and errors at LOG_LEVEL=debug. Neither its output nor any response
 * body may contain a secret, a token or an Authorization header's value.
 */

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;
const DB_PASSWORD = secret('dbpw');
const REDIS_PASSWORD = secret('redispw');
const ADMIN_PASSWORD = secret('adminpw');
const JWT_SECRET = secret('jwt-secret-at-least-32-bytes');
const WRONG_PASSWORD = secret('wrongpw');
const basic = (user: string, password: string) =>
  'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

let redis: ChildProcess;
let databaseUrl: string;
let dbUser: string;
let env: Record<string, string>;
let service: Service;
let base: string;
/** Everything that must never be written or echoed, by name for readable failures. */
const secrets = new Map<string, string>([
  ['database password', DB_PASSWORD],
  ['Redis password', REDIS_PASSWORD],
  ['ADMIN_PASSWORD', ADMIN_PASSWORD],
  ['JWT_SECRET', JWT_SECRET],
  ['a wrong password', WRONG_PASSWORD],
  ['Basic credentials', basic('admin', ADMIN_PASSWORD).slice(6)],
  ['wrong Basic credentials', basic('admin', WRONG_PASSWORD).slice(6)],
]);

/** Fails naming the secret and the line it appears in. */
function expectNoSecrets(text: string | string[], what = 'the output'): void {
  const lines = Array.isArray(text) ? text : [text];
  for (const [name, value] of secrets) {
    const line = lines.find((l) => l.includes(value));
    if (line) throw new Error(`${name} appears in ${what}: ${line.slice(0, 500)}`);
  }
}

async function withAdminDb<T>(work: (db: ReturnType<typeof createDb>) => Promise<T>): Promise<T> {
  const db = createDb(MYSQL_URL + '/', { min: 0, max: 1 });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** A redis-server of the test's own that requires a password. */
async function startRedisWithPassword(port: number, password: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'].concat([
      '--requirepass',
      password,
    ]),
    { stdio: 'ignore' },
  );
  await waitForPort(port);
  return child;
}

beforeAll(async () => {
  const redisPort = await freePort();
  redis = await startRedisWithPassword(redisPort, REDIS_PASSWORD);
  databaseUrl = await createTestDatabase();
  dbUser = uniqueName('secret');
  const database = new URL(databaseUrl).pathname.slice(1);
  await withAdminDb(async (db) => {
    await db.raw(`CREATE USER ??@'%' IDENTIFIED BY ?`, [dbUser, DB_PASSWORD]);
    await db.raw(`GRANT ALL PRIVILEGES ON ??.* TO ??@'%'`, [database, dbUser]);
  });
  const url = new URL(databaseUrl);
  url.username = dbUser;
  url.password = DB_PASSWORD;
  env = {
    DATABASE_URL: url.toString(),
    REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${redisPort}`,
    JWT_SECRET,
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD,
    LOG_LEVEL: 'debug',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
  };
  service = await startRole('all', env);
  base = `http://127.0.0.1:${service.port}`;
}, 60_000);

afterAll(async () => {
  await service?.stop();
  if (redis) await stop(redis);
  if (dbUser) await withAdminDb((db) => db.raw(`DROP USER IF EXISTS ??@'%'`, [dbUser]));
  if (databaseUrl) await dropDatabase(databaseUrl);
});

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  expectNoSecrets(text, `the body of ${init.method ?? 'GET'} ${path}`);
  expectNoSecrets([...res.headers.values()], `the headers of ${init.method ?? 'GET'} ${path}`);
  return { status: res.status, text, headers: res.headers };
}

/** Waits until the process has logged the request with this id, so the check sees its lines. */
async function logged(requestId: string): Promise<void> {
  await waitUntil(
    async () =>
      logLines(service.lines).some((l) => l.request_id === requestId && l.message === 'request'),
    { timeoutMs: 5_000, what: `the access line of ${requestId}` },
  );
}

const ids = () => `nosecret-${randomBytes(6).toString('hex')}`;

it('start-up lines (configuration, migrations, admin user, connections) carry no secret', () => {
  expect(logLines(service.lines).some((l) => l.message === 'admin user ensured')).toBe(true);
  expectNoSecrets(service.lines);
});

it('Basic requests with right and wrong passwords leave no credentials in logs or bodies', async () => {
  const good = ids();
  const wrong = ids();
  const unknown = ids();
  const ok = await call('/orders?limit=1', {
    headers: { Authorization: basic('admin', ADMIN_PASSWORD), 'X-Request-Id': good },
  });
  const refused = await call('/orders?limit=1', {
    headers: { Authorization: basic('admin', WRONG_PASSWORD), 'X-Request-Id': wrong },
  });
  const stranger = await call('/orders?limit=1', {
    headers: { Authorization: basic('nobody', WRONG_PASSWORD), 'X-Request-Id': unknown },
  });

  expect([ok.status, refused.status, stranger.status]).toEqual([200, 401, 401]);
  await Promise.all([good, wrong, unknown].map(logged));
  expectNoSecrets(service.lines);
});

it('issued tokens and Bearer requests leave no token in logs or bodies', async () => {
  const issued = await fetch(base + '/auth/token', {
    method: 'POST',
    headers: { Authorization: basic('admin', ADMIN_PASSWORD) },
  });
  expect(issued.status).toBe(200);
  const token = ((await issued.json()) as { access_token: string }).access_token;
  const [header, payload, signature] = token.split('.');
  const tampered = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;
  secrets.set('an issued token', token).set("a token's signature", signature!);
  const bearer = ids();
  const placed = ids();
  const forged = ids();

  const list = await call('/orders?limit=1', {
    headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': bearer },
  });
  const order = await call('/orders', {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'X-Request-Id': placed,
    },
    body: JSON.stringify(orderBody()),
  });
  const refused = await call('/orders?limit=1', {
    headers: { Authorization: `Bearer ${tampered}`, 'X-Request-Id': forged },
  });

  expect([list.status, order.status, refused.status]).toEqual([200, 201, 401]);
  await Promise.all([bearer, placed, forged].map(logged));
  // The worker processes the order at debug level too.
  const orderId = (JSON.parse(order.text) as { order_id: string }).order_id;
  await waitUntil(
    async () =>
      JSON.parse(
        (await call(`/orders/${orderId}`, { headers: { Authorization: `Bearer ${token}` } })).text,
      ).status === 'completed',
    { what: 'the order to complete' },
  );
  expectNoSecrets(service.lines);
});

it('problem responses of every kind echo no credentials', async () => {
  const auth = { Authorization: basic('admin', ADMIN_PASSWORD) };
  const answers = [
    await call('/orders', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: '{"not json',
    }),
    await call('/orders', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ currency: 'usd', items: [] }),
    }),
    await call('/nope', { headers: auth }),
    await call('/orders/missing', { headers: auth }),
    await call('/orders', { method: 'DELETE', headers: auth }),
    await call('/orders', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
    }),
    await call('/orders', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'text/plain' },
      body: 'x',
    }),
    await call('/auth/token', { method: 'POST', headers: { Authorization: 'Bearer x.y.z' } }),
  ];

  for (const answer of answers) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  }
  expectNoSecrets(service.lines);
});

describe('a process started with a wrong database password', () => {
  let wrong: ChildProcess | undefined;
  afterEach(async () => {
    if (wrong) await stop(wrong);
  });

  it('retries naming host and port, never the password it tried', async () => {
    const url = new URL(env.DATABASE_URL!);
    url.password = WRONG_PASSWORD;
    wrong = startMain(['all'], {
      ...env,
      DATABASE_URL: url.toString(),
      PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
    });
    const lines = collect(wrong);

    const retries = await waitUntil(
      async () => {
        const found = logLines(lines).filter((l) => l.message === 'mysql unreachable, retrying');
        return found.length >= 2 && found;
      },
      { timeoutMs: 20_000, what: 'two retry lines' },
    );

    expect(retries[0]).toMatchObject({ mysql: '127.0.0.1:3306' });
    expectNoSecrets(lines);
  });
});
