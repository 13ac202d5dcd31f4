/**
 * `npm run bench:profile [-- --duration 15] [--scenario single|single-bearer|batch]`
 *
 * Where order-service spends its CPU: `node --cpu-prof dist/main.js all` under one wrk load
 * (as in `npm run bench`, Basic auth unless single-bearer), then the profile's self time by
 * where the code lives: a package in node_modules, a layer of dist/, Node's internals, GC.
 * The .cpuprofile stays in .tmp/bench/profile/ for Chrome DevTools or speedscope.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deletePrefixes } from '../test/helpers/redis-keys';
import { createCleanup, dropDatabases, runBench } from './cleanup';
import { preflight } from './options';
import { profileMarkdown, summarizeProfile } from './profile-summary';
import * as targets from './targets';
import { runWrk } from './wrk';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '15' },
    scenario: { type: 'string', default: 'single' },
  },
});
const MYSQL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DIR = path.resolve(__dirname, '../.tmp/bench/profile');
const cleanup = createCleanup();

async function main(): Promise<void> {
  const scenario = values.scenario;
  if (!['single', 'single-bearer', 'batch'].includes(scenario)) {
    throw new Error(`--scenario must be single, single-bearer or batch, not ${scenario}`);
  }
  preflight();
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const tag = randomBytes(3).toString('hex');
  const backing = {
    databaseUrl: `${MYSQL}/os_bench_${tag}_prof`,
    redisUrl: REDIS,
    redisPrefix: `os-bench-${tag}-prof`,
  };
  cleanup.add('processes', () =>
    Promise.all([...targets.running].map((c) => targets.stopChild(c, 'SIGINT'))),
  );
  cleanup.add('databases', () => dropDatabases(MYSQL, [`os_bench_${tag}_prof`]));
  cleanup.add('redis keys', () => deletePrefixes(REDIS, [backing.redisPrefix]));
  const service = await targets.startService(backing, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${DIR}`],
  });
  const basic = `Basic ${Buffer.from(`${targets.ADMIN.username}:${targets.ADMIN.password}`).toString('base64')}`;
  let authorization = basic;
  if (scenario === 'single-bearer') authorization = `Bearer ${await targets.bearerToken(service)}`;
  const batch = scenario === 'batch' ? 100 : 1;
  const load = { url: service.url, authorization, tag, batch, connections: batch > 1 ? 4 : 32 };
  await runWrk({ ...load, durationS: 3, tag: `${tag}-warm` });
  const wrk = await runWrk({ ...load, durationS: Number(values.duration) });
  // SIGINT: a graceful exit, on which Node writes the profile.
  await Promise.all([...targets.running].map((c) => targets.stopChild(c, 'SIGINT')));
  const file = readdirSync(DIR).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${DIR}`);
  const rows = summarizeProfile(path.join(DIR, file));
  console.log(
    `order-service, ${scenario}: ${wrk.requestsPerS.toFixed(0)} req/s for ${wrk.durationS.toFixed(0)} s ` +
      `(after a 3 s warm-up; the profile covers start-up to exit)\n`,
  );
  console.log(profileMarkdown(rows));
  console.log(`\nProfile: ${path.join(DIR, file)}`);
}

runBench(main, cleanup);
