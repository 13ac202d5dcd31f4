/**
 * `npm run bench [-- --duration 10] [--rounds 2] [--galera] [--drain-timeout 90] [--out FILE]`
 *
 * order-service against a naive peer (bench/naive-peer.ts) and an Express no-op
 * (bench/noop-server.ts), each its own process, all driven by the same out-of-process load
 * generator (wrk + bench/wrk/orders.lua), rounds interleaved (odd rounds service → peer →
 * no-op, even rounds the reverse). Prints one markdown table (medians over the rounds) and the
 * path of the raw JSON (default .tmp/bench/latest.json). `--galera` runs the same against a
 * throwaway 3-node Galera cluster (service and peer on node 1). Exits non-zero only when it
 * could not run; slow numbers are still numbers.
 * Environment: BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306), REDIS_URL.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { startCluster } from '../test/galera/helpers/cluster';
import { createCleanup, deletePrefixes, dropDatabases } from './cleanup';
import { abandonBacklog, waitDrained } from './drain';
import { describeMachine, machineLine } from './machine';
import { markdown, Run, ScenarioKey, summarize } from './report';
import * as targets from './targets';
import { runWrk } from './wrk';

const ROOT = path.resolve(__dirname, '..');
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface Scenario {
  key: ScenarioKey;
  batch: number;
  connections: number;
  /** Bearer runs need the service's token endpoint. */
  serviceOnly?: boolean;
}
const SCENARIOS: Scenario[] = [
  { key: 'single', batch: 1, connections: 32 },
  { key: 'single-bearer', batch: 1, connections: 32, serviceOnly: true },
  { key: 'batch', batch: 100, connections: 4 },
];

const cleanup = createCleanup();
let interrupted = false;
const log = (line: string) => console.error(`bench: ${line}`);

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      'drain-timeout': { type: 'string', default: '90' },
      galera: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(ROOT, '.tmp/bench/latest.json') },
    },
  });
  const number = (name: string, value: string) => {
    const n = Number(value);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, not ${value}`);
    return n;
  };
  return {
    durationS: number('duration', values.duration),
    rounds: number('rounds', values.rounds),
    drainTimeoutS: number('drain-timeout', values['drain-timeout']),
    galera: values.galera,
    out: path.resolve(values.out),
  };
}

function preflight(): void {
  for (const tool of ['wrk', 'bash', 'npm']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is not on PATH (Debian/Ubuntu: apt-get install -y ${tool})`);
    }
  }
  log('npm run build');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}

/** The MySQL server to use: the local one, or node 1 of a fresh Galera cluster. */
async function mysqlServer(galera: boolean): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (!galera) return { url: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' };
  log('starting a 3-node Galera cluster');
  const cluster = await startCluster({ size: 3 });
  return { url: cluster.node(1).url().replace(/\/$/, ''), stop: () => cluster.stop() };
}

async function bearerToken(service: targets.Target): Promise<string> {
  const basic = Buffer.from(`${targets.ADMIN.username}:${targets.ADMIN.password}`);
  const res = await fetch(`${service.url}/auth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic.toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`POST /auth/token answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Bench {
  tag: string;
  drainTimeoutS: number;
  /** Authorization header per scenario, for order-service only. */
  authorization: Partial<Record<ScenarioKey, string>>;
  /** Each target's database and queue prefix, to see its orders complete. */
  stores: Map<targets.TargetName, { pool: mysql.Pool; redisPrefix: string }>;
  redis: Redis;
}

/** One wrk run against one target, then (for targets with a database) the drain. */
async function measure(
  b: Bench,
  target: targets.Target,
  s: Scenario,
  round: number,
  durationS: number,
): Promise<Run> {
  const tag = `${b.tag}-${target.name.replace(/\W/g, '')}-${s.key}-r${round}`;
  const wrk = await runWrk({
    url: target.url,
    connections: s.connections,
    durationS,
    tag,
    batch: s.batch,
    authorization: target.name === 'order-service' ? b.authorization[s.key] : undefined,
  });
  const store = b.stores.get(target.name);
  const drain = store && (await waitDrained(store.pool, tag, b.drainTimeoutS * 1000));
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
  return { round, target: target.name, scenario: s.key, batch: s.batch, wrk, drain };
}

async function main(): Promise<void> {
  const started = Date.now();
  const opts = options();
  preflight();
  const mysqlHost = await mysqlServer(opts.galera);
  const server = mysqlHost.url;
  const tag = randomBytes(3).toString('hex');
  const backing = (who: string) => ({
    databaseUrl: `${server}/os_bench_${tag}_${who}`,
    redisUrl: REDIS,
    redisPrefix: `os-bench-${tag}-${who}`,
  });
  const [svc, peer] = [backing('svc'), backing('peer')];
  // Added before anything exists; cleanup runs its steps in this order.
  // SIGINT: order-service skips its 3 s endpoint-removal pause; the peer and no-op just exit.
  cleanup.add('processes', () =>
    Promise.all([...targets.running].map((c) => targets.stopChild(c, 'SIGINT'))),
  );
  cleanup.add('databases', () =>
    dropDatabases(server, [`os_bench_${tag}_svc`, `os_bench_${tag}_peer`]),
  );
  cleanup.add('redis keys', () => deletePrefixes(REDIS, [svc.redisPrefix, peer.redisPrefix]));
  if (mysqlHost.stop) cleanup.add('galera cluster', mysqlHost.stop);

  const machine = await describeMachine(server, REDIS);
  log(machineLine(machine));
  await targets.migrate(peer.databaseUrl);
  const service = await targets.startService(svc);
  const all = [service, await targets.startPeer(peer), await targets.startNoop()];
  const basic = Buffer.from(`${targets.ADMIN.username}:${targets.ADMIN.password}`);
  const b: Bench = {
    tag,
    drainTimeoutS: opts.drainTimeoutS,
    authorization: {
      single: `Basic ${basic.toString('base64')}`,
      'single-bearer': `Bearer ${await bearerToken(service)}`,
      batch: `Basic ${basic.toString('base64')}`,
    },
    stores: new Map(
      [svc, peer].map((x, i) => [
        all[i]!.name,
        {
          pool: mysql.createPool({ uri: x.databaseUrl, connectionLimit: 1 }),
          redisPrefix: x.redisPrefix,
        },
      ]),
    ),
    redis: new Redis(REDIS),
  };
  cleanup.add('connections', async () => {
    b.redis.disconnect();
    await Promise.all([...b.stores.values()].map((x) => x.pool.end()));
  });

  // Unreported: JIT, connection pools and caches warm up before round 1.
  for (const target of all) await measure(b, target, SCENARIOS[0]!, 0, Math.min(3, opts.durationS));
  const runs: Run[] = [];
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? all : [...all].reverse();
    for (const target of order) {
      for (const s of SCENARIOS) {
        if (s.serviceOnly && target !== service) continue;
        runs.push(await measure(b, target, s, round, opts.durationS));
      }
    }
  }

  const rows = summarize(runs);
  const totalS = (Date.now() - started) / 1000;
  const file = opts.out;
  mkdirSync(path.dirname(file), { recursive: true });
  const raw = { date: new Date().toISOString(), tag, machine, options: opts, totalS, rows, runs };
  writeFileSync(file, JSON.stringify(raw, null, 2));
  const where = opts.galera ? 'a 3-node Galera cluster (node 1)' : 'the local server';
  console.log(`Machine: ${machineLine(machine)}; MySQL: ${where}\n`);
  console.log(markdown(rows));
  console.log(`\nRaw JSON: ${file} (total ${totalS.toFixed(0)} s)`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  });
}

main()
  .then(() => cleanup.run())
  .then(
    () => process.exit(0),
    async (err: Error) => {
      if (!interrupted) console.error(`bench: could not run: ${err.stack ?? err.message}`);
      await cleanup.run();
      process.exit(interrupted ? 130 : 1);
    },
  );
