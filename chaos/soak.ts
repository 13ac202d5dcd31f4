/**
 * `npm run soak -- --minutes N [--rate R] [--interval S]`: an api and a worker process under a
 * steady mixed load (writes, reads, cancels) for N minutes against the shared MariaDB (a
 * database of its own, dropped at the end) and a private redis-server. Every minute it prints
 * RSS, event-loop lag, queue depth, pool usage and error counts; at the end it fails on growth
 * that does not level off (growth.ts: last third against middle third), on any 5xx or
 * connection error, and on lost or doubled orders (the chaos checker).
 * Environment: SOAK_MYSQL_URL (default mysql://root@127.0.0.1:3306).
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createDb } from '../src/data-access/db';
import { parseSamples, Sample } from '../test/observability/helpers/prometheus-text';
import { growth, GrowthRule } from './growth';
import { Counts, emptyCounts, startMixedLoad } from './mixed-load';
import { sleep, startRedisServer } from './servers';
import { migrate, ServiceEnv, ServiceProcess, startService } from './service';
import { loadSnapshot, verify } from './verify';

const MYSQL = process.env.SOAK_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const MiB = 1024 * 1024;

interface Row {
  minute: number;
  rssApi: number;
  rssWorker: number;
  lagApi: number;
  lagWorker: number;
  queue: number;
  poolApi: string;
  poolWorker: string;
  counts: Counts;
}

/** What must level off, and what counts as noise for each. */
const RULES: { name: string; of: (r: Row) => number; rule: GrowthRule; unit: string }[] = [
  {
    name: 'api RSS',
    of: (r) => r.rssApi,
    rule: { absolute: 16 * MiB, relative: 0.1 },
    unit: 'MiB',
  },
  {
    name: 'worker RSS',
    of: (r) => r.rssWorker,
    rule: { absolute: 16 * MiB, relative: 0.1 },
    unit: 'MiB',
  },
  { name: 'queue depth', of: (r) => r.queue, rule: { absolute: 100, relative: 0.5 }, unit: 'jobs' },
  {
    name: 'api loop lag p99',
    of: (r) => r.lagApi,
    rule: { absolute: 0.05, relative: 0.5 },
    unit: 's',
  },
  {
    name: 'worker loop lag p99',
    of: (r) => r.lagWorker,
    rule: { absolute: 0.05, relative: 0.5 },
    unit: 's',
  },
];

function parseArgs(argv: string[]) {
  const args = { minutes: 30, rate: 20, intervalSeconds: 60 };
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--minutes') args.minutes = v;
    else if (argv[i] === '--rate') args.rate = v;
    else if (argv[i] === '--interval') args.intervalSeconds = v;
    else throw new Error(`unknown argument ${argv[i]}`);
    if (!(v > 0)) throw new Error(`${argv[i]} needs a positive number`);
    i++;
  }
  return args;
}

const sum = (samples: Sample[], name: string, match: (l: Record<string, string>) => boolean) =>
  samples.filter((s) => s.name === name && match(s.labels)).reduce((n, s) => n + s.value, 0);

async function scrape(service: ServiceProcess): Promise<Sample[]> {
  return parseSamples(await service.metrics());
}

function row(minute: number, api: Sample[], worker: Sample[], counts: Counts): Row {
  const one = (s: Sample[], name: string) => sum(s, name, () => true);
  const pool = (s: Sample[]) =>
    `${one(s, 'db_pool_connections_in_use')}/${one(s, 'db_pool_connections_max')}` +
    `+${one(s, 'db_pool_pending_acquires')}`;
  return {
    minute,
    rssApi: one(api, 'process_resident_memory_bytes'),
    rssWorker: one(worker, 'process_resident_memory_bytes'),
    lagApi: one(api, 'nodejs_eventloop_lag_p99_seconds'),
    lagWorker: one(worker, 'nodejs_eventloop_lag_p99_seconds'),
    queue: sum(worker, 'queue_jobs', (l) =>
      ['waiting', 'active', 'delayed', 'prioritized'].includes(l.state ?? ''),
    ),
    poolApi: pool(api),
    poolWorker: pool(worker),
    counts,
  };
}

const HEAD =
  'min  api_rss  wrk_rss  api_lag99  wrk_lag99  queue  api_pool  wrk_pool   reqs    ok  409  4xx  5xx  conn';

function format(r: Row): string {
  const c = r.counts;
  return [
    String(r.minute).padStart(3),
    `${(r.rssApi / MiB).toFixed(0)}M`.padStart(8),
    `${(r.rssWorker / MiB).toFixed(0)}M`.padStart(8),
    `${(r.lagApi * 1000).toFixed(1)}ms`.padStart(10),
    `${(r.lagWorker * 1000).toFixed(1)}ms`.padStart(10),
    String(r.queue).padStart(6),
    r.poolApi.padStart(9),
    r.poolWorker.padStart(9),
    String(c.requests).padStart(6),
    String(c.ok).padStart(5),
    String(c.conflicts).padStart(4),
    String(c.clientErrors).padStart(4),
    String(c.serverErrors).padStart(4),
    String(c.connErrors).padStart(5),
  ].join(' ');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logDir = resolve(__dirname, '..', '.tmp', 'soak', stamp);
  await mkdir(logDir, { recursive: true });
  const database = `chaos_soak_${randomBytes(4).toString('hex')}`;
  const redis = await startRedisServer();
  const env: ServiceEnv = {
    databaseUrl: `${MYSQL}/${database}`,
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    redisPrefix: 'soak',
    logDir,
  };
  const services: ServiceProcess[] = [];
  const failures: string[] = [];
  try {
    await migrate(env);
    services.push(
      await startService('api', 'api', env),
      await startService('worker', 'worker', env),
    );
    await Promise.all(services.map((s) => s.waitReady()));
    const [api, worker] = services as [ServiceProcess, ServiceProcess];
    console.error(`soak: ${args.minutes} min at ${args.rate} req/s; logs in ${logDir}`);
    const load = startMixedLoad({ target: api.url, ratePerSecond: args.rate });
    const rows: Row[] = [];
    console.log(HEAD);
    const began = Date.now();
    const samples = Math.round((args.minutes * 60) / args.intervalSeconds);
    for (let i = 0; i <= samples; i++) {
      await sleep(began + i * args.intervalSeconds * 1000 - Date.now());
      const counts = i === 0 ? emptyCounts() : load.takeCounts();
      const r = row(i, await scrape(api), await scrape(worker), counts);
      rows.push(r);
      console.log(format(r));
      for (const s of services) if (!s.alive) failures.push(`${s.name} exited`);
      if (failures.length > 0) break;
    }
    await load.stop();

    for (const { name, of, rule, unit } of RULES) {
      const verdict = growth(rows.map(of), rule);
      if (!verdict) continue;
      const scale = unit === 'MiB' ? MiB : 1;
      const show = (v: number) => `${(v / scale).toFixed(unit === 's' ? 3 : 1)} ${unit}`;
      const line = `${name}: middle third ${show(verdict.middle)}, last third ${show(verdict.last)}`;
      console.log(`${verdict.grows ? 'GROWS' : 'level'}  ${line}`);
      if (verdict.grows) failures.push(`${name} keeps growing`);
    }
    if (rows.length < 9) console.log('note: fewer than 9 samples; the growth verdict means little');
    const total = rows.reduce((t, r) => {
      for (const k of Object.keys(t) as (keyof Counts)[]) t[k] += r.counts[k];
      return t;
    }, emptyCounts());
    console.log(`requests: ${JSON.stringify(total)}`);
    if (total.serverErrors > 0) failures.push(`${total.serverErrors} 5xx answers`);
    if (total.connErrors > 0) failures.push(`${total.connErrors} connection errors`);

    // Everything acknowledged is finished, and the read models are exact.
    const db = createDb(env.databaseUrl, { min: 0, max: 2 });
    try {
      for (let i = 0; i < 240; i++) {
        const left = await db('orders')
          .whereIn('status', ['pending', 'processing'])
          .count({ n: '*' });
        if (Number(left[0]?.n) === 0) break;
        await sleep(500);
      }
      const v = verify(await loadSnapshot(db), load.sent, load.acknowledged);
      console.log(
        `orders: ${load.acknowledged.size} acknowledged, lost ${v.lost.length}, doubled ${v.doubled.length}, ` +
          `anomalies ${v.history.length + v.corrupt.length + v.phantom.length + v.unprocessed.length}`,
      );
      if (v.lost.length) failures.push(`${v.lost.length} acknowledged orders lost`);
      if (v.doubled.length) failures.push(`read models of ${v.doubled.length} customers differ`);
      const anomalies =
        v.history.length + v.corrupt.length + v.phantom.length + v.unprocessed.length;
      if (anomalies) failures.push(`${anomalies} order anomalies`);
    } finally {
      await db.destroy();
    }
  } finally {
    await Promise.all(services.filter((s) => s.alive).map((s) => s.terminate(15_000)));
    await redis.stop();
    const admin = createDb(`${MYSQL}/`, { min: 0, max: 1 });
    await admin.raw('DROP DATABASE IF EXISTS ??', [database]).catch(() => undefined);
    await admin.destroy();
  }
  console.log(failures.length ? `soak: FAIL (${failures.join('; ')})` : 'soak: PASS');
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`soak: ${err.message}`);
    process.exit(2);
  },
);
