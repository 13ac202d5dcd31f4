import { PassThrough } from 'node:stream';
import supertest from 'supertest';
import { compose, Services } from '../../src/compose';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/lib/logger';
import { createShutdown } from '../../src/lib/shutdown';
import { freePort } from '../helpers/processes';
import {
  createTestDatabase,
  dropDatabase,
  JWT_SECRET,
  REDIS_URL,
  stopServices,
} from '../helpers/harness';

/* Each role builds what it runs and nothing else (compose.ts, src/composition/). */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await createTestDatabase();
});
afterAll(async () => dropDatabase(databaseUrl));

function composeRole(role: 'api' | 'worker'): Services {
  const config = loadConfig(role, { DATABASE_URL: databaseUrl, REDIS_URL, JWT_SECRET });
  return compose(config, createLogger('warn'));
}

async function redisConnections(services: Services): Promise<string[]> {
  const text = await services.metrics.registry.getSingleMetricAsString('redis_connection_up');
  return [...text.matchAll(/connection="(\w+)"/g)].map((m) => m[1]!).sort();
}

describe('per-role composition', () => {
  it('api: the HTTP API, password hashing and the key-revocation feed, no worker Redis connection', async () => {
    const services = composeRole('api');
    try {
      expect(services.worker).toBeUndefined();
      expect(await redisConnections(services)).toEqual(['producer']);
      expect(services.shutdownSteps().map((s) => s.name)).toEqual([
        'readiness',
        'event streams',
        'probes',
        'redis',
        'queues',
        'mysql',
        'password hashing',
        'api key revocations redis',
        'events subscriber',
      ]);
      // The API answers for its own routes (401 without credentials).
      await supertest(services.app).get('/orders').expect(401);
    } finally {
      await stopServices(services);
    }
  });

  it('worker: the workers and probes only, no API, no password hashing', async () => {
    const services = composeRole('worker');
    try {
      expect(services.api).toBeUndefined();
      expect(await redisConnections(services)).toEqual(['producer', 'worker']);
      expect(services.shutdownSteps().map((s) => s.name)).toEqual([
        'readiness',
        'event relay',
        'workers',
        'worker redis',
        'worker queues',
        'events queue',
        'probes',
        'redis',
        'queues',
        'mysql',
      ]);
      await supertest(services.app).get('/orders').expect(404);
      await supertest(services.app).get('/healthz').expect(200);
    } finally {
      await stopServices(services);
    }
  });

  it('stopped at once, while Redis is still connecting, leaves no connection open', async () => {
    const services = composeRole('worker');
    await stopServices(services);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([services.redis.status, services.worker!.connection.status]).toEqual(['end', 'end']);
  });

  it('stopped while Redis is down, closes cleanly too', async () => {
    const port = await freePort(); // nothing listens there
    const config = loadConfig('worker', {
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://127.0.0.1:${port}`,
      JWT_SECRET,
    });
    const services = compose(config, createLogger('error', new PassThrough()));
    await new Promise((resolve) => setTimeout(resolve, 700)); // a failed attempt or two
    expect(await createShutdown(services.logger, 5000, services.shutdownSteps()).run()).toBe(true);
    // No connection attempt after the shutdown.
    const attempts: string[] = [];
    for (const connection of [services.redis, services.worker!.connection]) {
      connection.on('reconnecting', () => attempts.push('reconnecting'));
      connection.on('connecting', () => attempts.push('connecting'));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(attempts).toEqual([]);
  });
});
