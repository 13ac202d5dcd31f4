import type { Drain } from './drain';
import type { Counters } from './round-trips';
import type { TargetName } from './targets';
import type { WrkResult } from './wrk';

export type ScenarioKey = 'single' | 'single-bearer' | 'batch';

export interface Run {
  round: number;
  target: TargetName;
  scenario: ScenarioKey;
  batch: number;
  wrk: WrkResult;
  drain?: Drain;
  /** SQL statements and Redis commands per accepted order (api and worker together). */
  roundTrips?: Counters;
  /** CPU the target's process used from the start of the load to the end of the drain. */
  cpuS: number;
}

export interface Row {
  target: TargetName;
  scenario: ScenarioKey;
  rounds: number;
  requestsPerS: number;
  ordersPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, socket errors and timeouts, summed over the rounds. */
  errors: number;
  completionsPerS?: number;
  drainS?: number;
  /** False when some round's orders were not all completed within the drain timeout. */
  drained?: boolean;
  vsPeer?: number;
  vsNoop?: number;
  /** wrk's CPU time over the load time, median over the rounds. */
  wrkCpuPct: number;
  /** The target's CPU per accepted order (api and, for targets with one, worker), ms. */
  cpuMsPerOrder: number;
  statementsPerOrder?: number;
  redisCommandsPerOrder?: number;
}

const LABELS: Record<ScenarioKey, string> = {
  single: '1 order/POST, 32 conn',
  'single-bearer': '1 order/POST, 32 conn, Bearer',
  batch: '100 orders/POST, 4 conn',
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** One row per target and scenario: medians over the rounds, ratios on accepted orders/s. */
export function summarize(runs: Run[]): Row[] {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = `${r.target}|${r.scenario}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows = [...groups.values()].map((g) => row(g));
  const find = (target: TargetName, scenario: ScenarioKey) =>
    rows.find((r) => r.target === target && r.scenario === scenario)?.ordersPerS;
  for (const r of rows) {
    const base = r.scenario === 'batch' ? 'batch' : 'single';
    r.vsPeer = r.ordersPerS / (find('naive peer', base) ?? NaN);
    r.vsNoop = r.ordersPerS / (find('no-op', base) ?? NaN);
  }
  return rows;
}

function row(g: Run[]): Row {
  const first = g[0]!;
  const m = (f: (r: Run) => number) => median(g.map(f));
  const drains = g.flatMap((r) => (r.drain ? [{ w: r.wrk, d: r.drain }] : []));
  return {
    target: first.target,
    scenario: first.scenario,
    rounds: g.length,
    requestsPerS: m((r) => r.wrk.requestsPerS),
    ordersPerS: m((r) => (r.wrk.ok * r.batch) / r.wrk.durationS),
    p50Ms: m((r) => r.wrk.p50Ms),
    p99Ms: m((r) => r.wrk.p99Ms),
    errors: g.reduce((n, r) => n + r.wrk.non2xx + r.wrk.socketErrors + r.wrk.timeouts, 0),
    wrkCpuPct: m((r) => (100 * r.wrk.wrkCpuS) / r.wrk.durationS),
    cpuMsPerOrder: m((r) => (1000 * r.cpuS) / (r.drain?.accepted ?? r.wrk.ok * r.batch)),
    ...(g.every((r) => r.roundTrips) && {
      statementsPerOrder: m((r) => r.roundTrips!.statements),
      redisCommandsPerOrder: m((r) => r.roundTrips!.redisCommands),
    }),
    ...(drains.length > 0 && {
      completionsPerS: median(drains.map(({ w, d }) => d.completed / (w.durationS + d.drainS))),
      drainS: median(drains.map(({ d }) => d.drainS)),
      drained: drains.every(({ d }) => d.drained),
    }),
  };
}

const num = (x: number | undefined, digits = 0) =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);

/** Two significant digits below 1 (x0.011, x0.23), two decimals above (x3.84). */
const ratio = (x: number | undefined) =>
  x === undefined || !Number.isFinite(x) ? '–' : 'x' + (x < 1 ? x.toPrecision(2) : x.toFixed(2));

export function markdown(rows: Row[]): string {
  const head =
    '| target | scenario | req/s | orders/s | p50 ms | p99 ms | errors | completions/s | drain s ' +
    '| vs naive peer | vs no-op | CPU ms/order | SQL/order | Redis/order | wrk CPU |';
  const lines = rows.map((r) =>
    [
      r.target,
      LABELS[r.scenario],
      num(r.requestsPerS),
      num(r.ordersPerS),
      num(r.p50Ms, 1),
      num(r.p99Ms, 1),
      String(r.errors),
      // A drain cut off by its timeout: the rate is a lower bound, the time more than shown.
      (r.drained === false ? '≥ ' : '') + num(r.completionsPerS),
      (r.drained === false ? '> ' : '') + num(r.drainS, 1),
      ratio(r.vsPeer),
      ratio(r.vsNoop),
      num(r.cpuMsPerOrder, 3),
      num(r.statementsPerOrder, 2),
      num(r.redisCommandsPerOrder, 2),
      num(r.wrkCpuPct) + '%',
    ].join(' | '),
  );
  return [head, '|' + '---|'.repeat(15), ...lines.map((l) => `| ${l} |`)].join('\n');
}
