/**
 * `npm run bench:reads [-- --small 10000] [--large 1000000] [--duration 6] [--rounds 3]
 * [--connections 16] [--limit 50] [--out FILE]`
 *
 * The read endpoints at two sizes: two throwaway databases seeded with `--small` and `--large`
 * orders (bench/seed-orders.ts), each served by its own order-service process (`node
 * dist/main.js api`), every endpoint of both driven by wrk + bench/wrk/reads.lua for
 * `--duration` s (pages of `--limit`), after one unreported warm-up each. Rounds interleave
 * the sizes (odd rounds small → large, even rounds the reverse), so other load on the machine
 * falls on both alike. Prints one markdown table (medians over the rounds) with the p99 ratio
 * large/small per endpoint, and the path of the raw JSON (default .tmp/bench/reads.json).
 * Exits non-zero only when it could not run.
 * Environment: BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306), REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { createDb } from '../src/data-access/db';
import { deletePrefixes } from '../test/helpers/redis-keys';
import { createCleanup, dropDatabases, runBench } from './cleanup';
import { describeMachine, machineLine } from './machine';
import { log } from './measure';
import { preflight } from './options';
import { createOrderGenerator } from './order-generator';
import { EndpointKey, ReadData, walkSummaries, writeReadData } from './read-data';
import { LABELS, ReadRun, readMarkdown, size } from './read-report';
import { seedOrders } from './seed-orders';
import * as targets from './targets';
import { runWrkScript } from './wrk';

const ROOT = path.resolve(__dirname, '..');
const SCRIPT = path.join(__dirname, 'wrk', 'reads.lua');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SERVER = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const WARM_UP_S = 2;

const cleanup = createCleanup();

function parseReadOptions() {
  const { values } = parseArgs({
    options: {
      small: { type: 'string', default: '10000' },
      large: { type: 'string', default: '1000000' },
      duration: { type: 'string', default: '6' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '16' },
      limit: { type: 'string', default: '50' },
      out: { type: 'string', default: path.join(ROOT, '.tmp/bench/reads.json') },
    },
  });
  const number = (name: string, value: string) => {
    const n = Number(value);
    if (!(n > 0) || !Number.isInteger(n)) throw new Error(`--${name} must be a positive integer`);
    return n;
  };
  const opts = {
    small: number('small', values.small),
    large: number('large', values.large),
    durationS: number('duration', values.duration),
    rounds: number('rounds', values.rounds),
    connections: number('connections', values.connections),
    limit: number('limit', values.limit),
    out: path.resolve(values.out),
  };
  if (opts.large <= opts.small) throw new Error('--large must be more than --small');
  return opts;
}

type Opts = ReturnType<typeof parseReadOptions>;

interface Size {
  orders: number;
  db: Knex;
  service: targets.Target;
  authorization: string;
  data: ReadData;
}

/** One database of `orders` orders, seeded, and its own service; cleaned up with the rest. */
async function prepare(orders: number, tag: string, dir: string, opts: Opts) {
  const name = `os_bench_${tag}_reads_${size(orders).toLowerCase()}`;
  const backing = {
    databaseUrl: `${SERVER}/${name}`,
    redisUrl: REDIS,
    redisPrefix: `os-bench-${tag}-reads-${size(orders).toLowerCase()}`,
  };
  const db = createDb(backing.databaseUrl, { min: 0, max: 2 }, { queryDeadlineMs: 0 });
  cleanup.add(`connections ${name}`, () => db.destroy());
  cleanup.add(`database ${name}`, () => dropDatabases(SERVER, [name]));
  cleanup.add(`redis keys ${name}`, () => deletePrefixes(REDIS, [backing.redisPrefix]));
  await targets.migrate(backing.databaseUrl);
  log(`seeding ${orders} orders into ${name}, run ${tag}`);
  const gen = createOrderGenerator({
    seed: `${tag}-${orders}`,
    orders,
    customers: Math.max(1, Math.round(orders / 100)),
    now: new Date(),
  });
  const { sampleIds, ...seeded } = await seedOrders(db, gen, { log });
  log(`seeded ${orders} orders in ${seeded.seconds.toFixed(1)} s`);
  // The api role only: no worker or reconciler writing while the reads are measured.
  const service = await targets.startService(backing, { role: 'api' });
  const authorization = `Bearer ${await targets.bearerToken(service)}`;
  const cursors = await walkSummaries(service, authorization, opts.limit);
  const data = await writeReadData(dir, size(orders), db, sampleIds, cursors);
  return { size: { orders, db, service, authorization, data } as Size, seeded };
}

/**
 * InnoDB pages read from disk so far, server-wide: the difference over a run, per request, says
 * how much of the data the endpoint touched was not in the buffer pool (other work on the same
 * server counts too).
 */
async function poolReads(db: Knex): Promise<number> {
  const [rows] = (await db.raw("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'")) as [
    { Value: string }[],
  ];
  return Number(rows[0]!.Value);
}

async function measure(s: Size, endpoint: EndpointKey, durationS: number, opts: Opts) {
  const before = await poolReads(s.db);
  const wrk = await runWrkScript({
    script: SCRIPT,
    url: s.service.url,
    connections: opts.connections,
    durationS,
    env: {
      BENCH_ENDPOINT: endpoint,
      BENCH_DATA: s.data[endpoint],
      BENCH_LIMIT: String(opts.limit),
      BENCH_AUTH: s.authorization,
    },
  });
  return { wrk, diskReadsPerRequest: ((await poolReads(s.db)) - before) / wrk.requests };
}

async function main(): Promise<void> {
  const started = Date.now();
  const opts = parseReadOptions();
  preflight();
  const tag = randomBytes(3).toString('hex');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-reads-'));
  // Added before anything exists; cleanup runs its steps in this order.
  cleanup.add('processes', () =>
    Promise.all([...targets.running].map((c) => targets.stopChild(c, 'SIGINT'))),
  );
  cleanup.add('data files', async () => rmSync(dir, { recursive: true, force: true }));

  const machine = await describeMachine(SERVER, REDIS);
  log(machineLine(machine));
  const prepared = [];
  for (const orders of [opts.small, opts.large]) {
    prepared.push(await prepare(orders, tag, dir, opts));
  }
  const sizes = prepared.map((p) => p.size);
  // Tokens live 15 minutes and seeding the large size may take most of that.
  for (const s of sizes) s.authorization = `Bearer ${await targets.bearerToken(s.service)}`;
  const endpoints = Object.keys(LABELS) as EndpointKey[];
  // Unreported: JIT, connection pools and the buffer pool warm up.
  for (const s of sizes) {
    for (const e of endpoints) await measure(s, e, Math.min(WARM_UP_S, opts.durationS), opts);
  }
  const runs: ReadRun[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    for (const s of round % 2 === 1 ? sizes : [...sizes].reverse()) {
      for (const endpoint of endpoints) {
        const { wrk, diskReadsPerRequest } = await measure(s, endpoint, opts.durationS, opts);
        const errors = wrk.non2xx + wrk.socketErrors + wrk.timeouts;
        log(
          `round ${round} ${size(s.orders)} ${LABELS[endpoint]}: ` +
            `${wrk.requestsPerS.toFixed(0)} req/s, p99 ${wrk.p99Ms.toFixed(1)} ms, ` +
            `${diskReadsPerRequest.toFixed(2)} disk reads/request, ${errors} errors` +
            (wrk.lastNon2xx ? ` (last ${wrk.lastNon2xx})` : ''),
        );
        runs.push({ round, orders: s.orders, endpoint, wrk, diskReadsPerRequest });
      }
    }
  }

  const totalS = (Date.now() - started) / 1000;
  const seeds = prepared.map((p) => p.seeded);
  mkdirSync(path.dirname(opts.out), { recursive: true });
  const raw = { date: new Date().toISOString(), tag, machine, options: opts, totalS, seeds, runs };
  writeFileSync(opts.out, JSON.stringify(raw, null, 2));
  console.log(`Machine: ${machineLine(machine)}\n`);
  console.log(
    seeds
      .map(
        (s) => `Seeded ${s.orders} orders (${s.customers} customers) in ${s.seconds.toFixed(1)} s`,
      )
      .join('; ') + '\n',
  );
  console.log(readMarkdown(runs, opts.small, opts.large));
  console.log(`\nRaw JSON: ${opts.out} (total ${totalS.toFixed(0)} s)`);
}

runBench(main, cleanup);
