import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { createDb } from '../../src/data-access/db';
import { createTestDatabase, dropDatabase, orderBody, waitUntil } from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { startRole } from '../helpers/service-process';

/*
 * Issue 9: SIGTERM under load from many keep-alive clients. Every request that reached a
 * socket is answered; keep-alive sockets end after their response; the drain takes about as
 * long as the slowest request, so the workers get the rest of the budget; exit 0.
 */

jest.setTimeout(90_000);

let databaseUrl: string;
let redis: ChildProcess;
let child: ChildProcess | undefined;
let lines: string[];

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
  const redisPort = await freePort();
  redis = await startRedis(redisPort);
  const service = await startRole('all', {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    JWT_SECRET: 'x'.repeat(32),
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: 'admin-password',
    SHUTDOWN_TIMEOUT_SECONDS: '20',
  });
  child = service.child;
  lines = service.lines;
  const port = service.port;
  portInUse = port;
});
afterAll(async () => {
  if (child && child.exitCode === null) await stop(child);
  await stop(redis);
  await dropDatabase(databaseUrl);
});

let portInUse = 0;
type Outcome = { status?: number; error?: string; orderId: string; closing?: boolean };

/** One POST on a keep-alive agent; resolves with the status or the socket error's code. */
function post(agent: http.Agent, orderId: string): Promise<Outcome> {
  const body = JSON.stringify(orderBody({ order_id: orderId }));
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: portInUse,
        method: 'POST',
        path: '/orders',
        agent,
        headers: {
          Authorization: 'Basic ' + Buffer.from('admin:admin-password').toString('base64'),
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            orderId,
            closing: res.headers.connection === 'close',
          }),
        );
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ error: err.code ?? err.message, orderId }),
    );
    req.end(body);
  });
}

it('answers every request that reached a socket, ends keep-alive sockets, drains fast and exits 0', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const outcomes: Outcome[] = [];
  let sent = 0;
  let stopped = false;
  // 16 keep-alive clients, each posting one order after the other. A client stops once told
  // `Connection: close`, as a load balancer stops sending to a pod that left the endpoints.
  const clients = Array.from({ length: 16 }, async (_, c) => {
    while (!stopped && sent < 5000) {
      const outcome = await post(agent, `gs-${c}-${sent++}`);
      outcomes.push(outcome);
      if (outcome.closing || outcome.error === 'ECONNREFUSED') return;
    }
  });
  await waitUntil(async () => outcomes.length >= 150, { what: 'load', timeoutMs: 30_000 });

  const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
  child!.kill('SIGTERM');
  // A connection the load balancer opens just after SIGTERM (endpoint removal lags) is
  // still accepted and answered.
  const late = await post(new http.Agent({ keepAlive: false }), 'gs-late');
  const code = await exited;
  stopped = true;
  await Promise.all(clients);
  agent.destroy();

  expect(late).toEqual({ status: 201, orderId: 'gs-late', closing: true });
  const errors = outcomes.filter((o) => o.error && o.error !== 'ECONNREFUSED');
  expect(errors).toEqual([]);
  expect(outcomes.filter((o) => o.status !== undefined && o.status !== 201)).toEqual([]);
  expect(code).toBe(0);
  // A drain waiting for idle keep-alive sockets (65 s) would be cut off by the 20 s budget.
  expect(lines.filter((l) => l.includes('cut off by the deadline'))).toEqual([]);

  const acknowledged = outcomes.filter((o) => o.status === 201).map((o) => o.orderId);
  const db = createDb(databaseUrl);
  try {
    const stored = await db('orders').whereIn('order_id', acknowledged).count({ n: '*' }).first();
    expect(Number(stored!.n)).toBe(acknowledged.length);
  } finally {
    await db.destroy();
  }
});
