import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'mysql2/promise';
import { waitDrained } from './drain';
import { log } from './measure';

const run = promisify(execFile);
const LOAD = path.join(__dirname, 'paced-load.ts');

export interface Sustained {
  targetRate: number;
  durationS: number;
  /** Orders answered 2xx per second of load. */
  ordersPerS: number;
  errors: number;
  p99Ms: number;
  /** Orders of the run pending in the database: the most seen, and at the end of the load. */
  maxPending: number;
  pendingAtEnd: number;
  /** Accepted → completed (created_at → completed_at), over every order of the run. */
  completeP50Ms: number;
  completeP99Ms: number;
  drainS: number;
  loadCpuS: number;
}

/**
 * `POST /orders` at a fixed rate (bench/paced-load.ts, its own process) for `durationS`, with
 * the run's pending orders counted every second: a queue that keeps up stays flat. Then the
 * drain, and the accept → completed latency of every order from the database.
 */
export async function sustain(opts: {
  url: string;
  authorization: string;
  rate: number;
  durationS: number;
  tag: string;
  pool: Pool;
  drainTimeoutS: number;
}): Promise<Sustained> {
  const pending: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [rows] = await opts.pool.query(
        "SELECT COUNT(*) AS n FROM orders WHERE order_id LIKE ? AND status = 'pending'",
        [`${opts.tag}-%`],
      );
      pending.push(Number((rows as { n: number }[])[0]!.n));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  })();
  const args = [opts.url, opts.rate, 32, opts.durationS, opts.tag, opts.authorization];
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, ['--import', 'tsx', LOAD, ...args.map(String)], {
      maxBuffer: 1 << 20,
    }));
  } finally {
    sampling = false;
    await sampler;
  }
  const line = /^BENCH_RESULT (.*)$/m.exec(stdout);
  if (!line) throw new Error(`the paced load printed no result:\n${stdout}`);
  const r = JSON.parse(line[1]!) as Record<string, number>;
  const drain = await waitDrained(opts.pool, opts.tag, opts.drainTimeoutS * 1000);
  const [rows] = await opts.pool.query(
    'SELECT TIMESTAMPDIFF(MICROSECOND, created_at, completed_at) / 1000 AS ms FROM orders ' +
      "WHERE order_id LIKE ? AND status = 'completed' ORDER BY ms",
    [`${opts.tag}-%`],
  );
  const ms = (rows as { ms: string }[]).map((x) => Number(x.ms));
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN;
  const result: Sustained = {
    targetRate: opts.rate,
    durationS: r.duration_s!,
    ordersPerS: r.ok! / r.duration_s!,
    errors: r.non_2xx! + r.errors! + r.timeouts!,
    p99Ms: r.p99_ms!,
    maxPending: Math.max(0, ...pending),
    pendingAtEnd: pending.at(-1) ?? 0,
    completeP50Ms: at(0.5),
    completeP99Ms: at(0.99),
    drainS: drain.drainS,
    loadCpuS: r.cpu_s!,
  };
  log(
    `sustained ${opts.rate}/s for ${opts.durationS} s: ${result.ordersPerS.toFixed(0)} orders/s, ` +
      `pending max ${result.maxPending}, accept → completed p99 ${result.completeP99Ms.toFixed(0)} ms`,
  );
  return result;
}

export function sustainedMarkdown(s: Sustained): string {
  return [
    '| target rate/s | achieved orders/s | errors | POST p99 ms | pending max | pending at end | accept → completed p50 ms | p99 ms | drain s | load CPU |',
    '|' + '---|'.repeat(10),
    `| ${s.targetRate} | ${s.ordersPerS.toFixed(0)} | ${s.errors} | ${s.p99Ms.toFixed(1)} | ` +
      `${s.maxPending} | ${s.pendingAtEnd} | ${s.completeP50Ms.toFixed(0)} | ` +
      `${s.completeP99Ms.toFixed(0)} | ${s.drainS.toFixed(1)} | ` +
      `${((100 * s.loadCpuS) / s.durationS).toFixed(0)}% |`,
  ].join('\n');
}
