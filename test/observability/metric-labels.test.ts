import { Harness, startHarness } from '../helpers/harness';
import { scrape } from './helpers/prometheus-text';

let h: Harness;
beforeAll(async () => {
  // Fifty requests at a time from one address: the auth-failure limiter counts each request
  // while in flight, so its limit is raised here.
  h = await startHarness({ RATE_LIMIT_AUTH_FAILURES_MAX: '1000000' });
});
afterAll(async () => {
  await h?.stop();
});

const HTTP_SERIES = ['http_requests_total', 'http_request_duration_seconds_bucket'];

async function seriesCount(): Promise<Record<string, number>> {
  const samples = await scrape(h.services.metrics.registry);
  return Object.fromEntries(
    HTTP_SERIES.map((name) => [name, samples.filter((s) => s.name === name).length]),
  );
}

/** Requests `count` distinct order ids, customers and unknown paths, 50 at a time. */
async function requestDistinctIds(tag: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, async (_, j) => {
        const n = i + j;
        await h.api.get(`/orders/${tag}-${n}`).set('Authorization', h.basic('manager')).expect(404);
        if (n % 10 === 0) {
          await h.api
            .get(`/customers/${tag}-cust-${n}/summary`)
            .set('Authorization', h.basic('manager'));
          await h.api.get(`/no-such-path/${tag}-${n}`).expect(404);
        }
      }),
    );
  }
}

describe('HTTP metric labels', () => {
  it('do not grow with the number of distinct order ids, customers or unknown paths', async () => {
    await requestDistinctIds('warm', 20);
    const before = await seriesCount();
    expect(before.http_requests_total).toBeGreaterThan(0);

    await requestDistinctIds('many', 1000);
    expect(await seriesCount()).toEqual(before);

    const samples = await scrape(h.services.metrics.registry);
    const routes = new Set(
      samples.filter((s) => s.name === 'http_requests_total').map((s) => s.labels.route),
    );
    expect([...routes].sort()).toEqual(
      ['/customers/:customer_id/summary', '/orders/:order_id', 'unmatched'].sort(),
    );
    const requests = samples.find(
      (s) => s.name === 'http_requests_total' && s.labels.route === '/orders/:order_id',
    );
    expect(requests?.value).toBe(1020);
  });
});
