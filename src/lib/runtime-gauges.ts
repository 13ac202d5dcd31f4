import type { Redis } from 'ioredis';
import { Db, PoolStats, poolStats } from '../data-access/db';
import type { Metrics } from './metrics';
import type { Readiness } from './readiness';

/**
 * Per-process gauges, read at scrape time, for both roles: this pod's view of its own pool,
 * connections and dependencies. None does I/O: dependency_up and order_service_ready read the
 * state readiness keeps refreshed on its timer, so a scrape opens no connection.
 */
export function registerRuntimeGauges(deps: {
  metrics: Metrics;
  db: Db;
  /** By connection name: `producer`, and `worker` in the roles that run workers. */
  redis: Record<string, Redis>;
  readiness: Readiness;
}): void {
  const { metrics } = deps;
  const poolGauge = (name: string, help: string, read: (p: PoolStats) => number) =>
    metrics.gauge(name, help, [], async (g) => {
      const p = poolStats(deps.db);
      if (p) g.set(read(p));
    });
  poolGauge('db_pool_connections_in_use', 'MySQL connections lent out by the pool.', (p) => p.used);
  poolGauge(
    'db_pool_connections_idle',
    'Open MySQL connections waiting in the pool.',
    (p) => p.idle,
  );
  poolGauge('db_pool_connections_max', 'Size limit of the MySQL pool.', (p) => p.max);
  poolGauge(
    'db_pool_pending_acquires',
    'Queries waiting for a MySQL connection.',
    (p) => p.pendingAcquires,
  );

  metrics.gauge(
    'redis_connection_up',
    "Whether this process's Redis connection is ready (1) or not (0), by connection.",
    ['connection'],
    async (g) => {
      for (const [connection, redis] of Object.entries(deps.redis)) {
        g.set({ connection }, redis.status === 'ready' ? 1 : 0);
      }
    },
  );

  // What /readyz answers: MySQL on a connection of its own (a pool saturated by slow queries is
  // not an unreachable MySQL; db_pool_pending_acquires shows that) and a Redis PING.
  metrics.gauge(
    'dependency_up',
    'Whether this process can reach a dependency right now (1) or not (0).',
    ['dependency'],
    async (g) => {
      const { checks } = deps.readiness.report().body;
      for (const [dependency, state] of Object.entries(checks)) {
        g.set({ dependency }, state === 'ok' ? 1 : 0);
      }
    },
  );

  metrics.gauge(
    'order_service_ready',
    'The /readyz verdict (1 ready, 0 not ready or draining).',
    [],
    async (g) => g.set(deps.readiness.report().ready ? 1 : 0),
  );
}
