import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, dropDatabase, JWT_SECRET, waitUntil } from '../helpers/harness';
import { freePort, startRedis, stop, waitForPort } from '../helpers/processes';
import { collect, startMain } from '../helpers/service-process';

/*
 * Redis down at start-up: the `all` role holds five Redis connections (producer, worker, a
 * blocking duplicate per BullMQ worker, the queues on top). The log must still read like the
 * MySQL path: one line per attempt, backing off, then one line when Redis answers.
 */
const WINDOW_MS = 12_000;

interface Line {
  message: string;
  attempt?: number;
  retry_in_ms?: number;
  timestamp: string;
}

let databaseUrl: string;
let child: ChildProcess | undefined;
let redis: ChildProcess | undefined;

beforeAll(async () => {
  databaseUrl = await createTestDatabase();
});
afterAll(async () => {
  if (child) await stop(child, 'SIGTERM');
  if (redis) await stop(redis);
  await dropDatabase(databaseUrl);
});

it('logs one line per Redis attempt with a growing delay, then one line and ready once Redis is up', async () => {
  const redisPort = await freePort(); // nothing listens there yet
  const port = await freePort();
  child = startMain(['all'], {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    JWT_SECRET,
    PORT: String(port),
    METRICS_PORT: String(await freePort()),
  });
  const output = collect(child);
  const lines = () => output.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
  const unreachable = () => lines().filter((l) => l.message === 'redis unreachable, retrying');

  const first = await waitUntil(async () => unreachable()[0], { what: 'the first attempt' });
  const start = Date.parse(first.timestamp);
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const inWindow = unreachable().filter((l) => Date.parse(l.timestamp) - start < WINDOW_MS);

  // 500 ms doubling, capped at 5 s: attempts at 0, 0.5, 1.5, 3.5, 7.5 s (and 12.5 s).
  expect(inWindow.length).toBeGreaterThanOrEqual(4);
  expect(inWindow.length).toBeLessThanOrEqual(8);
  expect(inWindow.map((l) => l.attempt)).toEqual(inWindow.map((_, i) => i + 1));
  const delays = inWindow.map((l) => l.retry_in_ms!);
  expect(delays.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
  expect(Math.max(...delays)).toBeLessThanOrEqual(5000);
  // Nothing else repeats the outage: no per-queue or per-worker copies of the same error.
  expect(lines().filter((l) => /error$/.test(l.message))).toEqual([]);

  redis = await startRedis(redisPort);
  const base = `http://127.0.0.1:${port}`;
  await waitForPort(port, 30_000);
  await waitUntil(async () => (await fetch(`${base}/readyz`)).status === 200, {
    timeoutMs: 10_000,
    what: 'readiness within one capped delay of Redis starting',
  });
  await waitUntil(async () => lines().some((l) => l.message === 'worker started'), {
    what: 'the worker to start',
  });
  expect(lines().filter((l) => l.message === 'redis reachable')).toHaveLength(1);
}, 60_000);
