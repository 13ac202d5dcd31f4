import type { Redis } from 'ioredis';
import type mysql from 'mysql2/promise';
import { abandonBacklog, waitDrained } from './drain';
import type { Run, ScenarioKey } from './report';
import { cpuSeconds, Target, TargetName } from './targets';
import { perOrder, readCounters } from './round-trips';
import { runWrk } from './wrk';

export const log = (line: string) => console.error(`bench: ${line}`);

export interface Scenario {
  key: ScenarioKey;
  batch: number;
  connections: number;
  /** Bearer runs need the service's token endpoint. */
  serviceOnly?: boolean;
}
export const SCENARIOS: Scenario[] = [
  { key: 'single', batch: 1, connections: 32 },
  { key: 'single-bearer', batch: 1, connections: 32, serviceOnly: true },
  { key: 'batch', batch: 100, connections: 4 },
];

export interface Bench {
  tag: string;
  drainTimeoutS: number;
  /** Authorization header per scenario, for order-service only. */
  authorization: Partial<Record<ScenarioKey, string>>;
  /** Each target's database and queue prefix, to see its orders complete. */
  stores: Map<TargetName, { pool: mysql.Pool; redisPrefix: string }>;
  redis: Redis;
}

/** One wrk run against one target, then (for targets with a database) the drain. */
export async function measure(
  b: Bench,
  target: Target,
  s: Scenario,
  round: number,
  durationS: number,
): Promise<Run> {
  const tag = `${b.tag}-${target.name.replace(/\W/g, '')}-${s.key}-r${round}`;
  const store = b.stores.get(target.name);
  const before = store && (await readCounters(store.pool, b.redis));
  const cpuBefore = cpuSeconds(target.pid);
  const wrk = await runWrk({
    url: target.url,
    connections: s.connections,
    durationS,
    tag,
    batch: s.batch,
    authorization: target.name === 'order-service' ? b.authorization[s.key] : undefined,
  });
  const drain = store && (await waitDrained(store.pool, tag, b.drainTimeoutS * 1000));
  const cpuS = cpuSeconds(target.pid) - cpuBefore;
  const roundTrips =
    store && before && drain && drain.accepted > 0
      ? perOrder(before, await readCounters(store.pool, b.redis), drain.accepted)
      : undefined;
  if (store && drain && !drain.drained) {
    drain.abandoned = await abandonBacklog(store.pool, b.redis, store.redisPrefix, tag);
  }
  const errors = wrk.non2xx + wrk.socketErrors + wrk.timeouts;
  log(
    `${round === 0 ? 'warm-up' : `round ${round}`} ${target.name} ${s.key}: ` +
      `${wrk.requestsPerS.toFixed(0)} req/s, ${errors} errors, wrk CPU ${wrk.wrkCpuS.toFixed(2)} s` +
      (drain
        ? `, ${drain.completed} of ${drain.accepted} orders completed in ${drain.drainS.toFixed(1)} s`
        : '') +
      (drain?.abandoned ? ` (timed out; ${drain.abandoned} pending orders cancelled)` : ''),
  );
  return {
    ...{ round, target: target.name, scenario: s.key, batch: s.batch },
    ...{ wrk, drain, roundTrips, cpuS },
  };
}
