import { readFileSync } from 'node:fs';
import { CHART_DASHBOARD_FILE, Dashboard, DASHBOARD_FILE, queryPanels } from './helpers/tools';

const text = readFileSync(DASHBOARD_FILE, 'utf8');
const dashboard = JSON.parse(text) as Dashboard;
const panels = queryPanels(dashboard);
const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('the Grafana dashboard', () => {
  it('is one file: the chart ships dashboards/order-service.json byte for byte', () => {
    expect(readFileSync(CHART_DASHBOARD_FILE, 'utf8')).toBe(text);
  });

  it('has datasource, namespace and pod variables', () => {
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.namespace).toMatchObject({ type: 'query' });
    expect(variables.pod).toMatchObject({ type: 'query', multi: true, includeAll: true });
    expect(JSON.stringify(variables.pod!.query)).toContain('$namespace');
  });

  it('queries the datasource variable, scoped to the namespace, in every panel', () => {
    expect(panels.length).toBeGreaterThan(20);
    for (const panel of panels) {
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr).toContain('namespace="$namespace"');
        // Per-pod series follow the pod picker; shared gauges and order counters do not.
        if (
          !/queue_jobs|orders_oldest|order_|orders_created|outbox_|webhook_endpoints/.test(
            target.expr,
          )
        ) {
          expect(target.expr).toContain('pod=~"$pod"');
        }
      }
    }
  });

  it('has unique panel ids and a layout within 24 columns', () => {
    const ids = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
  });

  it.each([
    ['request rate per route', /sum by \(route\) \(rate\(http_requests_total/],
    [
      'errors per route',
      /sum by \(route, status_code\) \(rate\(http_requests_total\{[^}]*status_code=~"4\.\.\|5\.\."/,
    ],
    [
      'latency percentiles per route',
      /histogram_quantile\(0\.99, sum by \(route, le\) \(rate\(http_request_duration_seconds_bucket/,
    ],
    ['orders created per second', /rate\(orders_created_total/],
    ['outbox lag', /max\(outbox_oldest_unpublished_age_seconds/],
    ['orders completed per second', /rate\(order_status_transitions_total\{[^}]*to="completed"/],
    [
      'processing latency p50',
      /histogram_quantile\(0\.5, sum by \(le\) \(rate\(order_processing_duration_seconds_bucket/,
    ],
    [
      'processing latency p95',
      /histogram_quantile\(0\.95, sum by \(le\) \(rate\(order_processing_duration_seconds_bucket/,
    ],
    [
      'processing latency p99',
      /histogram_quantile\(0\.99, sum by \(le\) \(rate\(order_processing_duration_seconds_bucket/,
    ],
    ['queue depth by state', /max by \(queue, state\) \(queue_jobs/],
    ['oldest pending age', /orders_oldest_pending_age_seconds/],
    ['failed orders', /order_status_transitions_total\{[^}]*to="failed"/],
    ['transaction retries', /db_transaction_retries_total/],
    ['DB pool in use', /db_pool_connections_in_use/],
    ['DB pool waiting', /db_pool_pending_acquires/],
    ['event-loop lag per pod', /by \(pod\) \(nodejs_eventloop_lag_p99_seconds/],
    ['heap per pod', /by \(pod\) \(nodejs_heap_size_used_bytes/],
    ['CPU per pod', /by \(pod\) \(rate\(process_cpu_seconds_total/],
    ['rate-limited requests', /rate\(rate_limited_requests_total/],
    ['auth failures', /rate\(auth_failures_total/],
    ['API key authentications', /rate\(api_key_authentications_total/],
    ['Redis connection state', /redis_connection_up/],
    ['dependencies up', /dependency_up/],
  ])('charts %s', (_what, pattern) => {
    expect(exprs.some((e) => pattern.test(e))).toBe(true);
  });
});
