/**
 * `npm run chaos [-- --only a,b | --scenario NAME | --list | --pre-stop S]`: the fault-injection suite. Each
 * scenario runs real api and worker processes against private servers, injects one fault
 * under load, waits (bounded) for recovery and checks every acknowledged order and every
 * read model. One summary line per scenario on stdout (progress on stderr), then a table.
 * Exit 0 when all pass, 1 when any failed, 2 when the suite could not run.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { GaleraCluster, startCluster } from '../test/galera/helpers/cluster';
import { tally } from './load-client';
import { summaryLine, table, verdictOf } from './report';
import { Infrastructure, Options, Outcome, runScenario, Scenario } from './scenario';
import { SCENARIOS } from './scenarios';
import { APT_PACKAGES, missingTools, startMariadb } from './servers';

function parseArgs(argv: string[]) {
  const args = { list: false, only: [] as string[], options: {} as Partial<Options> };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--list') args.list = true;
    else if (arg === '--only' || arg === '--scenario') args.only.push(...value().split(','));
    else if (arg === '--rate') args.options.ratePerSecond = Number(value());
    else if (arg === '--concurrency') args.options.concurrency = Number(value());
    else if (arg === '--pre-stop') args.options.apiPreStopMs = Number(value()) * 1000;
    else if (arg === '--recovery-timeout') args.options.recoveryTimeoutMs = Number(value()) * 1000;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

function select(only: string[]): Scenario[] {
  if (only.length === 0) return SCENARIOS;
  const unknown = only.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (see --list)`);
  return SCENARIOS.filter((s) => only.includes(s.name));
}

/** One cluster for all Galera scenarios; put whole again before each (a failed one may not). */
async function wholeCluster(current: GaleraCluster | undefined): Promise<GaleraCluster> {
  if (current) {
    try {
      const down = current.nodes.filter((n) => !n.process).map((n) => n.index);
      await Promise.all(down.map((i) => current.restart(i, 90_000)));
      await current.waitForSize(3, 30_000);
      return current;
    } catch (err) {
      process.stderr.write(`Galera cluster not whole, building a new one: ${err}\n`);
      await current.stop().catch(() => undefined);
    }
  }
  // As strict as Percona XtraDB Cluster: no table without a primary key.
  return startCluster({
    size: 3,
    extraArgs: ['--wsrep-mode=REQUIRED_PRIMARY_KEY,STRICT_REPLICATION'],
  });
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(22)} ${s.description}`);
    return 0;
  }
  const scenarios = select(args.only);
  const missing = missingTools();
  if (missing) {
    console.error(`chaos: cannot run (${missing}); install: apt-get install -y ${APT_PACKAGES}`);
    return 2;
  }
  const options: Options = {
    recoveryTimeoutMs: 120_000,
    ratePerSecond: 40,
    concurrency: 8,
    // charts/order-service values: api.preStop.seconds (the worker has none).
    apiPreStopMs: 5000,
    ...args.options,
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const infra: Infrastructure = { logRoot: resolve(__dirname, '..', '.tmp', 'chaos', stamp) };
  await mkdir(infra.logRoot, { recursive: true });
  const began = Date.now();
  const outcomes: Outcome[] = [];
  try {
    for (const scenario of scenarios) {
      let outcome: Outcome;
      try {
        if (scenario.needs === 'mysql') {
          infra.mysql ??= await startMariadb();
          if (!infra.mysql.running) await infra.mysql.start();
        } else {
          infra.galera = await wholeCluster(infra.galera);
        }
        outcome = await runScenario(scenario, infra, options);
      } catch (err) {
        outcome = {
          name: scenario.name,
          tally: tally([]),
          failures: [],
          error: `could not set up: ${(err as Error).message.split('\n')[0]}`,
          durationSeconds: 0,
        };
      }
      outcomes.push(outcome);
      console.log(summaryLine(outcome));
    }
  } finally {
    await infra.mysql?.stop().catch(() => undefined);
    await infra.galera?.stop().catch(() => undefined);
  }
  const minutes = ((Date.now() - began) / 60_000).toFixed(1);
  console.log('\n' + table(outcomes));
  const verdicts = outcomes.map(verdictOf);
  const failed = verdicts.filter((v) => v === 'FAIL').length;
  const errors = verdicts.filter((v) => v === 'ERROR').length;
  console.log(`errors: ${errors} could not run; ${minutes} min; logs in ${infra.logRoot}`);
  // The plain closing line CI readers understand.
  console.log(`chaos: ${verdicts.length - failed - errors} passed, ${failed + errors} failed`);
  if (failed > 0) return 1;
  return errors > 0 ? 2 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`chaos: ${err.message}`);
    process.exit(2);
  },
);
