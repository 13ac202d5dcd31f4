/**
 * `npm run bench [-- --duration 10] [--rounds 2] [--sustain 60] [--galera] [--drain-timeout 90]
 *   [--out FILE]`
 *
 * order-service against a naive peer (bench/naive-peer.ts) and an Express no-op
 * (bench/noop-server.ts), each its own process, all driven by the same out-of-process load
 * generator (wrk + bench/wrk/orders.lua), rounds interleaved (odd rounds service → peer →
 * no-op, even rounds the reverse). Prints one markdown table (medians over the rounds) and the
 * path of the raw JSON (default .tmp/bench/latest.json). Then order-service alone at the naive
 * peer's single-order rate for `--sustain` seconds (bench/sustain.ts). `--galera` runs the same against a
 * throwaway 3-node Galera cluster (service and peer on node 1). Exits non-zero only when it
 * could not run; slow numbers are still numbers.
 * Environment: BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306), REDIS_URL.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import { startCluster } from '../test/galera/helpers/cluster';
import { deletePrefixes } from '../test/helpers/redis-keys';
import { createCleanup, dropDatabases, runBench } from './cleanup';
import { describeMachine, machineLine } from './machine';
import { Bench, log, measure, SCENARIOS } from './measure';
import { parseOptions, preflight } from './options';
import { markdown, Run, summarize } from './report';
import { sustain, sustainedMarkdown } from './sustain';
import * as targets from './targets';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const cleanup = createCleanup();

/** The MySQL server to use: the local one, or node 1 of a fresh Galera cluster. */
async function mysqlServer(galera: boolean): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (!galera) return { url: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306' };
  log('starting a 3-node Galera cluster');
  const cluster = await startCluster({ size: 3 });
  return { url: cluster.node(1).url().replace(/\/$/, ''), stop: () => cluster.stop() };
}

async function main(): Promise<void> {
  const started = Date.now();
  const opts = parseOptions();
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
      'single-bearer': `Bearer ${await targets.bearerToken(service)}`,
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
  const peerRate = rows.find(
    (r) => r.target === 'naive peer' && r.scenario === 'single',
  )?.ordersPerS;
  const sustained =
    opts.sustainS > 0 && peerRate
      ? await sustain({
          url: service.url,
          authorization: b.authorization.single!,
          rate: Math.round(peerRate),
          durationS: opts.sustainS,
          tag: `${tag}-sustain`,
          pool: b.stores.get(service.name)!.pool,
          drainTimeoutS: opts.drainTimeoutS,
        })
      : undefined;
  const totalS = (Date.now() - started) / 1000;
  const file = opts.out;
  mkdirSync(path.dirname(file), { recursive: true });
  const raw = {
    date: new Date().toISOString(),
    tag,
    machine,
    options: opts,
    totalS,
    rows,
    runs,
    sustained,
  };
  writeFileSync(file, JSON.stringify(raw, null, 2));
  const where = opts.galera ? 'a 3-node Galera cluster (node 1)' : 'the local server';
  console.log(`Machine: ${machineLine(machine)}; MySQL: ${where}\n`);
  console.log(markdown(rows));
  if (sustained) {
    console.log(`\norder-service at the naive peer's single-order rate for ${opts.sustainS} s:\n`);
    console.log(sustainedMarkdown(sustained));
  }
  console.log(`\nRaw JSON: ${file} (total ${totalS.toFixed(0)} s)`);
}

runBench(main, cleanup);
