import type { ChildProcess } from 'node:child_process';
import bcrypt from 'bcryptjs';
import { createDb } from '../../src/data-access/db';
import {
  createTestDatabase,
  dropDatabase,
  orderBody,
  waitUntil,
  JWT_SECRET,
} from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { runMain, startRole } from '../helpers/service-process';

let databaseUrl: string;
let redis: ChildProcess;
let env: Record<string, string>;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  const redisPort = await freePort();
  // Its own Redis: the process uses the default queue names, which must not meet other tests'.
  redis = await startRedis(redisPort);
  env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    JWT_SECRET,
    SHUTDOWN_TIMEOUT_SECONDS: '10',
  };
});
afterAll(async () => {
  await stop(redis);
  await dropDatabase(databaseUrl);
});

describe('migrate and users add', () => {
  it('applies migrations, then creates a user whose password is read from stdin and hashed', async () => {
    const migrate = await runMain(['migrate'], env);
    expect(migrate.code).toBe(0);
    const again = await runMain(['migrate'], env);
    expect(again.code).toBe(0);

    const add = await runMain(
      [
        'users',
        'add',
        'carol',
        '--role',
        'customer',
        '--customer-id',
        'c-carol',
        '--password-stdin',
      ],
      env,
      'carol-secret\n',
    );
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const db = createDb(databaseUrl);
    try {
      const row = await db('users').where('username', 'carol').first();
      expect(row).toMatchObject({ role: 'customer', customer_id: 'c-carol' });
      expect(row.password_hash).not.toContain('carol-secret');
      expect(await bcrypt.compare('carol-secret', row.password_hash)).toBe(true);
    } finally {
      await db.destroy();
    }
  });

  it('refuses a customer without --customer-id with one clear line', async () => {
    const add = await runMain(
      ['users', 'add', 'dave', '--role', 'customer', '--password-stdin'],
      env,
      'dave-secret',
    );
    expect(add.code).toBe(1);
    expect(add.stderr.trim()).toMatch(/^order-service: a customer needs --customer-id/);
  });

  it('refuses a password longer than bcrypt reads instead of ignoring its tail', async () => {
    const add = await runMain(
      ['users', 'add', 'erin', '--role', 'manager', '--password-stdin'],
      env,
      'x'.repeat(73),
    );
    expect(add.code).toBe(1);
    expect(add.stderr.trim()).toBe('order-service: the password may have at most 72 bytes (UTF-8)');
  });
});

describe('the all role', () => {
  let child: ChildProcess;
  let lines: string[];

  afterEach(async () => {
    if (child && child.exitCode === null) await stop(child);
  });

  it('serves, processes an order, and on SIGTERM finishes in-flight requests and exits 0', async () => {
    const service = await startRole('all', {
      ...env,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'admin-password',
    });
    child = service.child;
    lines = service.lines;
    const base = service.base;
    const auth = {
      Authorization: 'Basic ' + Buffer.from('admin:admin-password').toString('base64'),
      'Content-Type': 'application/json',
    };

    const placed = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(orderBody({ order_id: 'life-1' })),
    });
    expect(placed.status).toBe(201);
    await waitUntil(
      async () =>
        (
          (await (await fetch(`${base}/orders/life-1`, { headers: auth })).json()) as {
            status: string;
          }
        ).status === 'completed',
      { what: 'completion' },
    );

    // Lock the new order id's slot in the primary key so the next request is in flight when
    // SIGTERM arrives.
    const db = createDb(databaseUrl);
    const blocker = await db.transaction();
    await blocker('orders').where('order_id', 'life-2').forUpdate();
    const inFlight = fetch(`${base}/orders`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(orderBody({ order_id: 'life-2', customer_id: 'c-slow' })),
    });
    await waitUntil(
      async () =>
        lines.length > 0 &&
        (await db.raw('SHOW PROCESSLIST'))[0].some(
          (p: { Info: string | null }) => p.Info?.includes('insert into `orders`') === true,
        ),
      { what: 'the request to block in MySQL' },
    );

    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await waitUntil(async () => lines.some((l) => l.includes('shutting down')), {
      what: 'shutdown to begin',
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await blocker.commit();
    const response = await inFlight;
    expect(response.status).toBe(201);
    expect(await exited).toBe(0);
    expect(await db('orders').where('order_id', 'life-2')).toHaveLength(1);
    await db.destroy();
    // Every log line is JSON, and none carries the admin password.
    const logLines = lines.filter((l) => l.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(3);
    expect(lines.join('\n')).not.toContain('admin-password');
  });
});
