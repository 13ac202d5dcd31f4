import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { createTestDatabase, dropDatabase, orderBody, waitUntil } from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { collect, startRole } from '../helpers/service-process';
import { startReceiver } from '../helpers/webhook-receiver';
import { Dashboard, DASHBOARD_FILE, queryPanels, RuleGroup, RULES_FILE } from './helpers/tools';

/**
 * A throwaway Prometheus scrapes a real api and a real worker process (each on its own metrics
 * port), evaluates the shipped rules, and answers every dashboard query after some traffic:
 * successes, 4xx, 429s, auth failures, a replay, and a Redis outage (5xx on /readyz, orders
 * pending until it is back). Targets get the labels a ServiceMonitor would add.
 */
const NAMESPACE = 'obs-e2e';
const PODS = { api: 'order-service-api-0', worker: 'order-service-worker-0' };
const ADMIN = { username: 'e2e-admin', password: 'e2e-admin-password' };
const COMMIT = 'e2e0commit';

let databaseUrl: string;
let redis: ChildProcess;
let redisPort: number;
let api: ChildProcess;
let worker: ChildProcess;
let prometheus: ChildProcess;
let tmp: string;
let apiBase: string;
let promBase: string;
const output: Record<string, string[]> = {};
let start: number;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;

jest.setTimeout(120_000);

beforeAll(async () => {
  start = Date.now() / 1000;
  tmp = mkdtempSync(path.join(os.tmpdir(), 'os-prometheus-'));
  databaseUrl = await createTestDatabase();
  redisPort = await freePort();
  redis = await startRedis(redisPort);
  const [apiPort, apiMetrics, workerPort, workerMetrics, promPort] = (await ports(5)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    JWT_SECRET: 'e2e-secret-that-is-at-least-32-bytes-long',
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_AUTH_FAILURES_MAX: '5',
    GIT_COMMIT: COMMIT,
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    // The webhook panels need deliveries: to a receiver of the test's on 127.0.0.1.
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  };

  writeFileSync(
    path.join(tmp, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [RULES_FILE],
      scrape_configs: [
        target('order-service-api', apiMetrics, PODS.api),
        target('order-service-worker', workerMetrics, PODS.worker),
      ],
    }),
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(tmp, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  output.prometheus = collect(prometheus);
  promBase = `http://127.0.0.1:${promPort}`;

  const apiService = await startRole('api', {
    ...env,
    PORT: String(apiPort),
    METRICS_PORT: String(apiMetrics),
    MIGRATE_ON_START: 'true',
  });
  [api, output.api, apiBase] = [apiService.child, apiService.lines, apiService.base];
  const workerService = await startRole('worker', {
    ...env,
    PORT: String(workerPort),
    METRICS_PORT: String(workerMetrics),
    MIGRATE_ON_START: 'false',
  });
  [worker, output.worker] = [workerService.child, workerService.lines];
  await waitUntil(async () => (await get(`${promBase}/-/ready`))?.status === 200, {
    what: 'Prometheus to be ready',
  });
  await waitUntil(
    async () => {
      const up = await instant('up');
      return up.length === 2 && up.every((s) => s.value[1] === '1');
    },
    { timeoutMs: 30_000, what: 'both targets to be up' },
  );

  await driveTraffic();
}, 120_000);

afterAll(async () => {
  await Promise.all(
    [api, worker, prometheus].filter(Boolean).map((child) => stop(child, 'SIGKILL')),
  );
  if (redis) await stop(redis);
  await receiver?.close();
  if (databaseUrl) await dropDatabase(databaseUrl);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function target(job: string, port: number, pod: string) {
  return {
    job_name: job,
    static_configs: [
      { targets: [`127.0.0.1:${port}`], labels: { namespace: NAMESPACE, service: job, pod } },
    ],
  };
}

async function ports(n: number): Promise<number[]> {
  const taken = new Set<number>();
  while (taken.size < n) taken.add(await freePort());
  return [...taken];
}

async function get(url: string, init?: RequestInit): Promise<Response | undefined> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
}

let ipCounter = 0;
/** An API call from its own client address (TRUST_PROXY=loopback honours X-Forwarded-For). */
async function call(
  method: string,
  route: string,
  opts: { auth?: string; body?: unknown; headers?: Record<string, string>; ip?: string } = {},
) {
  ipCounter++;
  const res = await fetch(`${apiBase}${route}`, {
    method,
    headers: {
      'X-Forwarded-For': opts.ip ?? `10.1.${ipCounter >> 8}.${ipCounter & 255}`,
      ...(opts.auth ? { Authorization: opts.auth } : {}),
      ...(opts.body ? { 'Content-Type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
  });
  await res.arrayBuffer();
  return { status: res.status };
}

async function driveTraffic(): Promise<void> {
  const basic = 'Basic ' + Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64');
  const tokenRes = await fetch(`${apiBase}/auth/token`, {
    method: 'POST',
    headers: { Authorization: basic },
  });
  const bearer = `Bearer ${((await tokenRes.json()) as { access_token: string }).access_token}`;
  receiver = await startReceiver();
  const hook = await call('POST', '/webhooks', {
    auth: basic,
    body: { url: receiver.url, events: ['order.created'], customer_id: 'c-e2e' },
  });
  expect(hook.status).toBe(201);

  for (let i = 0; i < 30; i += 5) {
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (j) => {
        const r = await call('POST', '/orders', {
          auth: bearer,
          body: orderBody({ order_id: `e2e-${i + j}`, customer_id: 'c-e2e' }),
        });
        expect(r.status).toBe(201);
      }),
    );
  }
  expect(
    (
      await call('POST', '/orders', {
        auth: basic,
        body: [1, 2, 3].map((n) => orderBody({ order_id: `e2e-batch-${n}`, customer_id: 'c-e2e' })),
      })
    ).status,
  ).toBe(201);
  for (let i = 0; i < 10; i++) {
    expect((await call('GET', `/orders/e2e-${i}`, { auth: bearer })).status).toBe(200);
    expect((await call('GET', `/orders/e2e-missing-${i}`, { auth: bearer })).status).toBe(404);
  }
  expect((await call('GET', '/orders?limit=5', { auth: bearer })).status).toBe(200);
  expect((await call('GET', '/customers/c-e2e/summary', { auth: bearer })).status).toBe(200);
  expect((await call('GET', '/no-such-route')).status).toBe(404);
  expect(
    (await call('POST', '/orders', { auth: bearer, body: { currency: 'USD', items: [] } })).status,
  ).toBe(400);
  const keyed = {
    auth: bearer,
    body: orderBody({ order_id: 'e2e-keyed', customer_id: 'c-e2e' }),
    headers: { 'Idempotency-Key': 'e2e-key-1' },
  };
  expect((await call('POST', '/orders', keyed)).status).toBe(201);
  expect((await call('POST', '/orders', keyed)).status).toBe(201);
  // Failed authentications from one address (basic, bearer; none is not a failed login):
  // past 5 the limiter says 429.
  const attacker = '10.66.0.1';
  const statuses: number[] = [];
  const wrong = (n: number) => 'Basic ' + Buffer.from(`e2e-admin:wrong-${n}`).toString('base64');
  for (const auth of [
    wrong(1),
    'Bearer not-a-token',
    undefined,
    'Bearer nope',
    wrong(2),
    wrong(3),
    wrong(4),
  ]) {
    statuses.push((await call('GET', '/orders', { auth, ip: attacker })).status);
  }
  expect(statuses).toContain(401);
  expect(statuses).toContain(429);

  await waitUntil(async () => receiver!.received.length > 0, { what: 'a webhook delivery' });
  await waitUntil(
    async () => {
      const r = await fetch(`${apiBase}/orders/e2e-29`, {
        headers: { Authorization: bearer, 'X-Forwarded-For': '10.2.0.1' },
      });
      return ((await r.json()) as { status: string }).status === 'completed';
    },
    { timeoutMs: 20_000, what: 'the orders to complete' },
  );

  // A Redis outage: probes answer 503, orders are accepted but stay pending until it is back.
  await stop(redis);
  await waitUntil(async () => (await get(`${apiBase}/readyz`))?.status === 503, {
    what: 'the api to notice',
  });
  for (const id of ['e2e-during-1', 'e2e-during-2']) {
    expect(
      (
        await call('POST', '/orders', {
          auth: bearer,
          body: orderBody({ order_id: id, customer_id: 'c-e2e' }),
        })
      ).status,
    ).toBe(201);
  }
  await waitUntil(
    async () =>
      // Both pods, or a loaded machine can restore Redis before the api's next scrape.
      (await instant(`dependency_up{dependency="redis"} == 0`)).length === 2,
    {
      what: 'Prometheus to see Redis down from both pods',
    },
  );
  redis = await startRedis(redisPort);
  await waitUntil(async () => (await get(`${apiBase}/readyz`))?.status === 200, {
    timeoutMs: 20_000,
    what: 'the api to recover',
  });
  await waitUntil(
    async () =>
      (await instant(`min(redis_connection_up{namespace="${NAMESPACE}"}) == 1`)).length > 0,
    {
      timeoutMs: 20_000,
      what: 'every Redis connection to be back',
    },
  );
  // A few more scrapes and rule evaluations after the last traffic.
  await new Promise((resolve) => setTimeout(resolve, 3000));
}

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

async function prom<T>(apiPath: string, params: Record<string, string>): Promise<T> {
  const res = await fetch(`${promBase}${apiPath}?${new URLSearchParams(params)}`);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${params.query}: ${body.error}`);
  return body.data;
}

async function instant(query: string): Promise<Series[]> {
  return (await prom<{ result: Series[] }>('/api/v1/query', { query })).result;
}

async function range(
  query: string,
): Promise<{ metric: Record<string, string>; values: [number, string][] }[]> {
  const data = await prom<{
    result: { metric: Record<string, string>; values: [number, string][] }[];
  }>('/api/v1/query_range', {
    query,
    start: String(Math.floor(start)),
    end: String(Math.ceil(Date.now() / 1000)),
    step: '1',
  });
  return data.result;
}

/**
 * Grafana's substitutions for this Prometheus: both pods picked, a 1 s scrape interval. The
 * rate interval is wider than Grafana's 4 s so that a scrape or two missed on a loaded CI
 * machine (1 s timeout) does not leave a panel without two samples in any window.
 */
function substitute(expr: string): string {
  return expr
    .replaceAll('$namespace', NAMESPACE)
    .replaceAll('$pod', `${PODS.api}|${PODS.worker}`)
    .replaceAll('$__rate_interval', '10s');
}

const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const targets = queryPanels(dashboard).flatMap((panel) =>
  (panel.targets ?? []).map((t) => [`${panel.title} [${t.refId}]`, t.expr] as const),
);

describe('a real Prometheus scraping the api and the worker', () => {
  it.each(targets)('returns data for the dashboard panel %s', async (_name, expr) => {
    const series = await range(substitute(expr));
    const numbers = series.flatMap((s) => s.values.map(([, v]) => Number(v)));
    if (!numbers.some((v) => !Number.isNaN(v))) {
      throw new Error(`no data for ${substitute(expr)}\n${lastLines()}`);
    }
  });

  it('sees the Redis outage, 5xx answers and the orders it left pending', async () => {
    const redisDown = await instant(`min_over_time(dependency_up{dependency="redis"}[5m])`);
    expect(redisDown.map((s) => [s.metric.pod, s.value[1]]).sort()).toEqual([
      [PODS.api, '0'],
      [PODS.worker, '0'],
    ]);
    const mysql = await instant(`min_over_time(dependency_up{dependency="mysql"}[5m])`);
    expect(mysql.map((s) => s.value[1])).toEqual(['1', '1']);
    expect(
      await instant(`min_over_time(order_service_ready{pod="${PODS.api}"}[5m]) == 0`),
    ).toHaveLength(1);
    expect(
      await instant('sum(http_requests_total{route="/readyz",status_code="503"}) > 0'),
    ).toHaveLength(1);
    // Pending while Redis was away; enqueued again as soon as it came back empty.
    const pending = await instant('max_over_time(orders_oldest_pending_age_seconds[5m])');
    expect(Number(pending[0]?.value[1])).toBeGreaterThan(0);
  });

  it('gets the shared queue gauges from the worker only, build info from both', async () => {
    const queue = await instant('count by (pod) (queue_jobs)');
    expect(queue.map((s) => s.metric.pod)).toEqual([PODS.worker]);
    const info = await instant(`order_service_build_info{commit="${COMMIT}"}`);
    expect(info.map((s) => s.metric.pod).sort()).toEqual([PODS.api, PODS.worker]);
  });

  it('evaluates every shipped rule without errors, on metrics the service exports', async () => {
    const { groups } = await prom<{
      groups: { rules: { name: string; health: string; lastError?: string }[] }[];
    }>('/api/v1/rules', {});
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(10);
    for (const rule of rules)
      expect({ rule: rule.name, health: rule.health, error: rule.lastError ?? '' }).toEqual({
        rule: rule.name,
        health: 'ok',
        error: '',
      });
    expect(
      await instant(
        `namespace_service:http_requests_slow:ratio_rate5m{service="order-service-api"}`,
      ),
    ).toHaveLength(1);

    // Every metric an alert or recording rule selects exists here (a typo would never fire).
    const names = new Set(await prom<string[]>('/api/v1/label/__name__/values', {}));
    const file = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] };
    const recorded = new Set(
      file.groups.flatMap((g) => g.rules).flatMap((r) => (r.record ? [r.record] : [])),
    );
    const selected = file.groups
      .flatMap((g) => g.rules)
      .flatMap((r) => [...r.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)].map((m) => m[1]!));
    expect(selected.length).toBeGreaterThan(10);
    for (const name of selected) if (!recorded.has(name)) expect(names).toContain(name);
  });
});

afterAll(() => {
  if (process.env.E2E_DUMP) writeFileSync(process.env.E2E_DUMP, lastLines(10_000));
});

function lastLines(count = 15): string {
  return Object.entries(output)
    .map(([name, lines]) => `--- ${name}\n${lines.slice(-count).join('\n')}`)
    .join('\n');
}
