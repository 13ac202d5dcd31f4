import { compose } from '../../src/compose';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/lib/logger';
import { PassThrough } from 'node:stream';
import {
  Harness,
  JWT_SECRET,
  orderBody,
  REDIS_URL,
  startHarness,
  waitUntil,
  stopServices,
} from '../helpers/harness';

/*
 * A worker cut off by the shutdown deadline (or killed) leaves its job active with a lock. When
 * the lock expires another worker runs the job again: the order is retried, not lost.
 */
let h: Harness;
let release: () => void;
const stuck = new Promise<void>((resolve) => (release = resolve));
let started = false;

beforeAll(async () => {
  h = await startHarness(
    {},
    {
      workerLockMs: 1000,
      fulfil: async () => {
        started = true;
        await stuck;
      },
    },
  );
});
afterAll(async () => {
  release();
  await h.stop();
});

it('runs a job again on another worker after its first worker stopped mid-job', async () => {
  const doomed = h.roles.worker.createWorkers();
  void doomed.orderWorker.run();
  await h.api
    .post('/orders')
    .set('Authorization', h.basic('manager'))
    .send(orderBody({ order_id: 'cut-off' }))
    .expect(201);
  await waitUntil(async () => started, { what: 'the first worker to start the job' });
  // The deadline passed: close without waiting for the running job, as shutdown does.
  await doomed.orderWorker.close(true);
  expect((await h.services.db('orders').where('order_id', 'cut-off').first()).status).toBe(
    'processing',
  );

  // A second worker (another pod) on the same database, so on the same default key prefix.
  const config = loadConfig('worker', {
    DATABASE_URL: h.services.config.databaseUrl,
    REDIS_URL,
    JWT_SECRET,
  });
  const other = compose(config, createLogger('error', new PassThrough()), { workerLockMs: 1000 });
  const workers = other.worker!.createWorkers();
  void workers.orderWorker.run();
  try {
    await waitUntil(
      async () =>
        (await h.services.db('orders').where('order_id', 'cut-off').first()).status === 'completed',
      {
        timeoutMs: 20_000,
        what: 'the stalled job to complete elsewhere',
      },
    );
    const history = await h.services
      .db('order_status_history')
      .where('order_id', 'cut-off')
      .orderBy('version');
    expect(history.map((r) => r.status)).toEqual(['pending', 'processing', 'completed']);
  } finally {
    await workers.orderWorker.close();
    await stopServices(other);
  }
});
