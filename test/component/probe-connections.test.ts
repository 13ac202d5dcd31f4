import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';
import { createMetricsServer } from '../../src/entry-points/metrics-server';
import { registerSharedGauges } from '../../src/entry-points/worker/shared-gauges';
import { Harness, MYSQL_URL, startHarness, uniqueName, waitUntil } from '../helpers/harness';
import { startTcpRelay, TcpRelay } from '../helpers/tcp-relay';

/*
 * /readyz is public and unlimited and Prometheus scrapes every pod: neither may cost a MySQL
 * connection per request. This graph reaches MySQL through a counting relay, so the count is
 * its own even while other test files use the same server.
 */
const REFRESH_MS = 50;
let relay: TcpRelay;
let h: Harness;
beforeAll(async () => {
  const mysql = new URL(MYSQL_URL);
  relay = await startTcpRelay(Number(mysql.port || 3306), mysql.hostname);
  const url = new URL(MYSQL_URL);
  url.host = `127.0.0.1:${relay.port}`;
  url.pathname = `/${uniqueName('probes')}`;
  h = await startHarness({ DATABASE_URL: url.toString() }, { readinessIntervalMs: REFRESH_MS });
});
afterAll(async () => {
  await relay?.restore(); // in case a failed test left MySQL cut off
  await h?.stop();
  await relay?.close();
});

describe('GET /readyz', () => {
  it('answers 80 concurrent requests without opening a MySQL connection', async () => {
    const before = relay.opened;
    const responses = await Promise.all(Array.from({ length: 80 }, () => h.api.get('/readyz')));
    expect(responses.map((r) => r.status)).toEqual(Array(80).fill(200));
    expect(relay.opened).toBe(before);
  });

  it('is refreshed on one MySQL connection that outlasts the refreshes', async () => {
    const before = relay.opened;
    // No condition to wait for: the point is that nothing happens over ten refreshes.
    await new Promise((resolve) => setTimeout(resolve, REFRESH_MS * 10));
    expect(relay.opened).toBe(before);
    expect((await h.api.get('/readyz')).status).toBe(200);
  });

  it('turns 503 with mysql marked fail while MySQL is unreachable, and 200 once it is back', async () => {
    await relay.cut();
    const down = await waitUntil(
      async () => {
        const res = await h.api.get('/readyz');
        return res.status === 503 && res.body;
      },
      { what: '/readyz to report MySQL down' },
    );
    expect(down).toEqual({ status: 'fail', checks: { mysql: 'fail', redis: 'ok' } });

    await relay.restore();
    await waitUntil(async () => (await h.api.get('/readyz')).status === 200, {
      what: '/readyz to report MySQL back',
    });
  });
});

describe('GET /metrics', () => {
  it('serves 20 scrapes without opening a MySQL connection', async () => {
    const { metrics, repositories, orderQueue } = h.services;
    // The worker role's gauges too: they query the orders table at scrape time.
    registerSharedGauges({
      metrics,
      orders: repositories.orders,
      events: repositories.events,
      queue: orderQueue.queue,
    });
    const server = createMetricsServer(metrics.registry);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const scrape = async () => {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      return res.text();
    };
    try {
      // The first scrape may give the pool the connection every later scrape reuses.
      expect(await scrape()).toContain('order_service_ready 1');
      const before = relay.opened;
      for (let i = 0; i < 20; i++) await scrape();
      expect(relay.opened).toBe(before);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the pool the scrape-time queries borrow from', () => {
  it('keeps an idle connection open longer than the chart scrapes, so a scrape reuses it', () => {
    const values = parse(
      readFileSync(path.resolve(__dirname, '../../charts/order-service/values.yaml'), 'utf8'),
    ) as { metrics: { serviceMonitor: { interval: string } } };
    const scrapeEveryMs = Number.parseInt(values.metrics.serviceMonitor.interval, 10) * 1000;
    const pool = (h.services.db.client as { pool: { idleTimeoutMillis: number } }).pool;
    expect(values.metrics.serviceMonitor.interval).toMatch(/^\d+s$/);
    expect(pool.idleTimeoutMillis).toBeGreaterThanOrEqual(2 * scrapeEveryMs);
  });
});
