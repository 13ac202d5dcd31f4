import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, dropDatabase, JWT_SECRET, waitUntil } from '../helpers/harness';
import { freePort, stop, waitForPort } from '../helpers/processes';
import { collect, runMain, startMain } from '../helpers/service-process';

/*
 * A newcomer's `npm start` or a rollout before the data layer is up: no crash loop, no stack
 * traces, one JSON line per attempt naming host and port, /readyz 503 naming the dependency.
 */
describe('start-up with a dependency down', () => {
  let databaseUrl: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    expect((await runMain(['migrate'], { DATABASE_URL: databaseUrl })).code).toBe(0);
  });
  afterEach(async () => {
    if (child) await stop(child, 'SIGTERM');
    child = undefined;
  });
  afterAll(async () => dropDatabase(databaseUrl));

  async function start(env: Record<string, string>) {
    const port = await freePort();
    child = startMain(['api'], {
      JWT_SECRET,
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      ...env,
    });
    const lines = collect(child);
    await waitForPort(port, 30_000);
    return { lines, base: `http://127.0.0.1:${port}` };
  }

  it('keeps retrying Redis, answers 503 naming it, and logs JSON lines only', async () => {
    const redisPort = await freePort(); // nothing listens there
    const { lines, base } = await start({
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://:s3cret-pw@127.0.0.1:${redisPort}`,
    });
    const ready = await waitUntil(
      async () => {
        const res = await fetch(`${base}/readyz`);
        const body = (await res.json()) as { checks: Record<string, string> };
        return res.status === 503 && body.checks.mysql === 'ok' && body;
      },
      { what: '/readyz to report Redis down' },
    );
    expect(ready.checks.redis).toBe('fail');
    await waitUntil(async () => lines.filter((l) => l.includes('redis unreachable')).length >= 2, {
      what: 'two retry lines',
    });
    const retry = JSON.parse(lines.find((l) => l.includes('redis unreachable'))!);
    expect(retry).toMatchObject({ level: 'warn', redis: `127.0.0.1:${redisPort}` });
    expect(child!.exitCode).toBeNull();
    expect(lines.every((l) => l.startsWith('{'))).toBe(true);
    expect(lines.join('\n')).not.toContain('s3cret-pw');
  });

  it('keeps retrying MySQL with one line per attempt and answers 503 meanwhile', async () => {
    const mysqlPort = await freePort();
    const { lines, base } = await start({
      DATABASE_URL: `mysql://root:db-pw@127.0.0.1:${mysqlPort}/orders`,
    });
    await waitUntil(async () => lines.filter((l) => l.includes('mysql unreachable')).length >= 2, {
      what: 'two retry lines',
    });
    const retry = JSON.parse(lines.find((l) => l.includes('mysql unreachable'))!);
    expect(retry).toMatchObject({ level: 'warn', mysql: `127.0.0.1:${mysqlPort}`, attempt: 1 });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: Record<string, string> }).checks.mysql).toBe('fail');
    expect(lines.every((l) => l.startsWith('{'))).toBe(true);
    expect(lines.join('\n')).not.toContain('db-pw');
  });
});
