import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import supertest from 'supertest';
import { compose, ComposeOptions, Services } from '../../src/compose';
import type { ApiComposition } from '../../src/composition/api';
import type { WorkerComposition } from '../../src/composition/worker';
import { createShutdown } from '../../src/lib/shutdown';
import { deletePrefixes } from './redis-keys';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/lib/logger';
import { createDb, ensureDatabase } from '../../src/data-access/db';
import { migrationConfig } from '../../src/data-access/migrations';
import { saveUser } from '../../src/domain/manage-users';
import type { Order, OrderInput } from '../../src/domain/order';
import { priceOrders } from '../../src/domain/price-orders';

export const MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long';

export const USERS = {
  manager: { username: 'manager', password: 'manager-password', role: 'manager' as const },
  alice: {
    username: 'alice',
    password: 'alice-password',
    role: 'customer' as const,
    customerId: 'c-alice',
  },
  bob: {
    username: 'bob',
    password: 'bob-password',
    role: 'customer' as const,
    customerId: 'c-bob',
  },
};
export type TestUser = keyof typeof USERS;

export function uniqueName(kind: string): string {
  return `os_${kind}_${randomBytes(5).toString('hex')}`;
}

/** Creates a database of its own and returns its URL; drop it with dropDatabase. */
export async function createTestDatabase(): Promise<string> {
  const url = `${MYSQL_URL}/${uniqueName('test')}`;
  await ensureDatabase(url);
  return url;
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = createDb(MYSQL_URL + '/', { min: 0, max: 1 });
  try {
    await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
  } finally {
    await admin.destroy();
  }
}

export interface Harness {
  services: Services;
  /** The two halves of the `all` composition the harness builds. */
  roles: { api: ApiComposition; worker: WorkerComposition };
  prefix: string;
  logs: string[];
  api: ReturnType<typeof supertest>;
  /** Basic credentials header for a test user. */
  basic(user: TestUser): string;
  startWorkers(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real service graph (compose, role `all`) on its own MySQL database, with the test users
 * created, stopped with the same shutdown steps as main.ts. Its Redis key prefix is the default
 * derived from that database's unique name (REDIS_PREFIX in `env` overrides it). Responses are
 * validated against the OpenAPI document.
 */
export async function startHarness(
  env: Record<string, string> = {},
  options: ComposeOptions = {},
): Promise<Harness> {
  // A test may name the database's URL itself (to reach MySQL through a relay); the harness
  // still creates, migrates and drops it.
  const databaseUrl = env.DATABASE_URL ?? `${MYSQL_URL}/${uniqueName('test')}`;
  await ensureDatabase(databaseUrl);
  const config = loadConfig('all', {
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    JWT_SECRET,
    RATE_LIMIT_MAX: '1000000',
    ...env,
  });
  const logs: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (line: Buffer) => logs.push(line.toString()));
  const logger = createLogger('debug', stream);
  const services = compose(config, logger, { validateResponses: true, ...options });
  const roles = { api: services.api!, worker: services.worker! };
  const prefix = config.redisPrefix;
  await services.db.migrate.latest(migrationConfig);
  services.readiness.markStarted();
  await services.readiness.start();
  for (const user of Object.values(USERS)) await saveUser(services.repositories.users, user);

  return {
    services,
    roles,
    prefix,
    logs,
    api: supertest(services.app),
    basic(user) {
      const { username, password } = USERS[user];
      return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
    },
    startWorkers: () => roles.worker.start(),
    async stop() {
      await stopServices(services);
      // A test may leave Redis just restarted; cleaning up is best effort there.
      await deletePrefixes(config.redisUrl, [prefix]).catch(() => undefined);
      await dropDatabase(databaseUrl);
    },
  };
}

/** main.ts's shutdown, step for step, without the HTTP listener a harness does not have. */
export async function stopServices(services: Services): Promise<void> {
  const deadline = services.config.shutdownTimeoutSeconds * 1000;
  await createShutdown(services.logger, deadline, services.shutdownSteps()).run();
}

/** Polls until `check` returns a value (not undefined/false) or the time is up. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A valid order body; override fields per test. */
export function orderBody(overrides: Record<string, unknown> = {}) {
  return {
    customer_id: 'c-alice',
    currency: 'USD',
    items: [{ sku: 'TEA-GREEN', name: 'Green tea', quantity: 2, unit_price: '9.99' }],
    ...overrides,
  };
}

/** A pending order as the repository stores it, priced by the domain, for tests that bypass the API. */
export function pendingOrder(
  orderId: string,
  customerId: string,
  items: OrderInput['items'] = [{ sku: 'X', name: 'x', quantity: 1, unit_price: '1.00' }],
): Order {
  const at = new Date();
  const [priced] = priceOrders([{ customer_id: customerId, currency: 'USD', items }], false);
  return {
    order_id: orderId,
    customer_id: customerId,
    status: 'pending',
    ...priced!,
    metadata: {},
    version: 1,
    created_at: at,
    updated_at: at,
    completed_at: null,
    status_history: [],
  };
}

/** One order as a job of its own would process it: its outcome. */
export async function processAlone(h: Harness, orderId: string): Promise<string> {
  const counts = await h.roles.worker.useCases.processOrders([orderId], false);
  return Object.entries(counts).find(([, n]) => n > 0)?.[0] ?? 'none';
}
