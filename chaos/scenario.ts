/*
 * What every scenario shares: its own database and redis-server, the service processes it
 * starts, the load, the fault window, the recovery watch, the verification and the verdict.
 * A scenario only says which processes run where and what the fault is.
 */
import { mkdir } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { createDb } from '../src/data-access/db';
import type { GaleraCluster } from '../test/galera/helpers/cluster';
import { failureSamples, Load, RequestRecord, startLoad, tally, Tally } from './load-client';
import type { SentOrder } from './order-generator';
import { ControlledServer, Mariadb, sleep, startRedisServer } from './servers';
import { migrate, ServiceEnv, ServiceProcess, startService } from './service';
import { loadSnapshot, verify, Verification } from './verify';
import { summariseLogs } from './log-summary';

/** Load runs this long before each fault and after it. */
export const BEFORE_FAULT_MS = 3000;
export const AFTER_FAULT_MS = 8000;

export interface Infrastructure {
  mysql?: Mariadb;
  galera?: GaleraCluster;
  logRoot: string;
}

export interface Allowances {
  /** 503 answers are the right answer while a dependency is really down. */
  unavailable?: boolean;
  /** Connection errors are unavoidable when the api process itself is killed. */
  conn?: boolean;
}

export interface Scenario {
  name: string;
  /** One line: what is broken and what it models. */
  description: string;
  needs: 'mysql' | 'galera';
  allow: Allowances;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface Options {
  /** Bound on the wait for recovery after the load stops. */
  recoveryTimeoutMs: number;
  ratePerSecond: number;
  concurrency: number;
  /** Pause between deleting an api pod and its SIGTERM: the chart's preStop sleep (5 s). */
  apiPreStopMs: number;
}

export interface Outcome {
  name: string;
  tally: Tally;
  verification?: Verification;
  /** Seconds from the end of the fault until recovered, undefined if it never recovered. */
  recoverySeconds?: number;
  failures: string[];
  error?: string;
  durationSeconds: number;
}

export class ScenarioContext {
  readonly services: ServiceProcess[] = [];
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  redis!: ControlledServer;
  load?: Load;
  faultEnd?: number;
  recoveredAt?: number;
  private watching?: Promise<void>;
  private cleanups: (() => Promise<void>)[] = [];
  private stopWatching = false;

  constructor(
    readonly name: string,
    readonly infra: Infrastructure,
    readonly logDir: string,
    readonly options: Options,
  ) {}

  get database(): string {
    return `chaos_${this.name.replace(/-/g, '_')}`;
  }

  get mysql(): Mariadb {
    if (!this.infra.mysql) throw new Error('this scenario has no private mariadbd');
    return this.infra.mysql;
  }

  get galera(): GaleraCluster {
    if (!this.infra.galera) throw new Error('this scenario has no Galera cluster');
    return this.infra.galera;
  }

  /** The URL the verifier reads from; a Galera scenario may point it elsewhere. */
  verifyUrl?: string;

  defaultDatabaseUrl(): string {
    return this.infra.galera
      ? this.infra.galera.node(1).url(this.database)
      : this.mysql.url(this.database);
  }

  env(databaseUrl = this.defaultDatabaseUrl()): ServiceEnv {
    return {
      databaseUrl,
      redisUrl: `redis://127.0.0.1:${this.redis.port}`,
      redisPrefix: 'chaos',
      logDir: this.logDir,
    };
  }

  log(message: string): void {
    process.stderr.write(`  [${this.name} ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
  }

  async start(
    role: 'api' | 'worker',
    name: string,
    databaseUrl?: string,
    ports?: { port: number; metricsPort: number },
  ): Promise<ServiceProcess> {
    const service = await startService(role, name, this.env(databaseUrl), ports);
    this.services.push(service);
    return service;
  }

  /** Starts processes in parallel (each tsx start costs seconds) and waits until all are ready. */
  async startAll(
    specs: {
      role: 'api' | 'worker';
      name: string;
      databaseUrl?: string;
      ports?: { port: number; metricsPort: number };
    }[],
  ): Promise<ServiceProcess[]> {
    const started = await Promise.all(
      specs.map((s) => this.start(s.role, s.name, s.databaseUrl, s.ports)),
    );
    await Promise.all(started.map((s) => s.waitReady()));
    this.log(`ready: ${started.map((s) => `${s.name}(:${s.port})`).join(' ')}`);
    return started;
  }

  /** The load, aimed at the given base URLs (read before every request). */
  startLoad(targets: () => string[]): Load {
    this.load = startLoad({
      targets,
      idPrefix: this.name,
      ratePerSecond: this.options.ratePerSecond,
      concurrency: this.options.concurrency,
    });
    return this.load;
  }

  /**
   * Waits (bounded) until some order job is being processed, so a kill lands mid-job. The key
   * prefix is whatever the service uses (BullMQ's `bull` until REDIS_PREFIX is read): this
   * Redis is the scenario's own.
   */
  async untilJobsActive(timeoutMs = 5000): Promise<number> {
    const redis = new Redis(`redis://127.0.0.1:${this.redis.port}`, { maxRetriesPerRequest: 1 });
    try {
      const deadline = Date.now() + timeoutMs;
      // An empty list is no key at all: find the prefix through the queue's meta hash.
      const keys = (await redis.keys('*:orders:meta')).map((k) => k.replace(/meta$/, 'active'));
      while (Date.now() < deadline) {
        const lengths = await Promise.all(keys.map((k) => redis.llen(k)));
        const active = lengths.reduce((a, b) => a + b, 0);
        if (active > 0) return active;
        await sleep(2);
      }
      return 0;
    } finally {
      redis.disconnect();
    }
  }

  /**
   * Lets a backlog build: the worker is paused (SIGSTOP, well inside its 30 s job locks) while
   * orders keep coming, so the fault that follows finds jobs waiting, as it would after a burst
   * or on a worker that falls behind. Returns the resume.
   */
  async buildBacklog(worker: ServiceProcess, ms = 3000): Promise<() => void> {
    worker.child.kill('SIGSTOP');
    await sleep(ms);
    return () => worker.child.kill('SIGCONT');
  }

  /** Waits (bounded) until a request is waiting for its answer, so a kill cuts one off. */
  async untilRequestInFlight(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.load?.waitingSince(Date.now() - 2)) return true;
      await sleep(1);
    }
    return false;
  }

  /** Runs the fault; recovery is measured from its end. */
  async fault(what: string, inject: () => Promise<void>): Promise<void> {
    this.log(`fault: ${what}`);
    await inject();
    this.faultEnd = Date.now();
    this.log('fault over; watching for recovery');
    this.watching = this.watchRecovery(this.faultEnd);
  }

  /** Runs after the scenario's processes are stopped (balancers, proxies). */
  defer(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  async cleanup(): Promise<void> {
    for (const c of this.cleanups.reverse()) await c().catch(() => undefined);
  }

  fail(reason: string): void {
    this.failures.push(reason);
    this.log(`FAIL: ${reason}`);
  }

  /** Processes that should be running: started and not stopped by the scenario. */
  expectedRunning(): ServiceProcess[] {
    return this.services.filter((s) => s.alive || s.unexpectedExit);
  }

  /**
   * Recovered when every request that started before the end of the fault has its answer,
   * every order acknowledged by those is finished, and every process is ready again.
   */
  private async watchRecovery(faultEnd: number): Promise<void> {
    const db = createDb(this.verifyUrl ?? this.defaultDatabaseUrl(), { min: 0, max: 1 });
    try {
      while (!this.stopWatching) {
        if (await this.recovered(db, faultEnd)) {
          this.recoveredAt = Date.now();
          return;
        }
        await sleep(250);
      }
    } finally {
      await db.destroy();
    }
  }

  private async recovered(db: ReturnType<typeof createDb>, faultEnd: number): Promise<boolean> {
    const load = this.load;
    if (load?.waitingSince(faultEnd)) return false;
    const before = (load?.records ?? []).filter((r) => r.startedAt < faultEnd);
    const ids = (kind: 'ack' | 'other') =>
      before
        .filter((r) => (r.kind === 'ack') === (kind === 'ack'))
        .flatMap((r) => r.orders.map((o) => o.order_id));
    const running = this.expectedRunning();
    const ready = await Promise.all(running.map((s) => s.ready()));
    if (ready.includes(false)) return false;
    try {
      // Orders whose answer was lost may be stored too: those must be finished as well.
      return (await unfinished(db, ids('ack'))) === 0 && (await inProgress(db, ids('other'))) === 0;
    } catch {
      return false; // the database is still away
    }
  }

  /** After the scenario: stop the load, wait (bounded) for recovery, then verify. */
  async finish(): Promise<{ records: RequestRecord[]; verification: Verification }> {
    const records = (await this.load?.stop()) ?? [];
    this.log(`load stopped: ${JSON.stringify(tally(records))}`);
    const deadline = Date.now() + this.options.recoveryTimeoutMs;
    if (this.watching) {
      await Promise.race([this.watching, sleep(this.options.recoveryTimeoutMs)]);
      this.stopWatching = true;
      await this.watching;
    }
    const sent = new Map<string, SentOrder>();
    const acknowledged = new Set<string>();
    for (const r of records) {
      for (const o of r.orders) {
        sent.set(o.order_id, o);
        if (r.kind === 'ack') acknowledged.add(o.order_id);
      }
    }
    const db = createDb(this.verifyUrl ?? this.defaultDatabaseUrl(), { min: 0, max: 2 });
    try {
      // Orders acknowledged after the fault get the same bounded chance to finish.
      while (Date.now() < deadline) {
        const left = await unfinished(db, [...acknowledged]).catch(() => -1);
        const anyLeft = await db('orders')
          .whereIn('status', ['pending', 'processing'])
          .count({ n: '*' })
          .then((rows) => Number(rows[0]?.n))
          .catch(() => -1);
        if (left === 0 && anyLeft === 0) break;
        await sleep(500);
      }
      const verification = verify(await loadSnapshot(db), sent, acknowledged);
      return { records, verification };
    } finally {
      await db.destroy();
    }
  }

  async retriesByReason(): Promise<Record<string, number>> {
    const totals: Record<string, number> = {};
    for (const s of this.services.filter((x) => x.alive)) {
      const text = await s.metrics().catch(() => '');
      for (const m of text.matchAll(/^db_transaction_retries_total\{reason="([^"]+)"\} (\S+)$/gm)) {
        totals[m[1]!] = (totals[m[1]!] ?? 0) + Number(m[2]);
      }
    }
    return totals;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.services.filter((s) => s.alive).map((s) => s.terminate(15_000)));
  }
}

/** How many of these orders are stored and still pending or processing. */
async function inProgress(db: ReturnType<typeof createDb>, ids: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db('orders')
      .whereIn('order_id', ids.slice(i, i + 1000))
      .whereIn('status', ['pending', 'processing'])
      .count({ n: '*' });
    n += Number(rows[0]?.n ?? 0);
  }
  return n;
}

/** How many of these orders are not finished yet (missing ones count as unfinished). */
async function unfinished(db: ReturnType<typeof createDb>, ids: string[]): Promise<number> {
  let done = 0;
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await db('orders')
      .whereIn('order_id', ids.slice(i, i + 1000))
      .whereIn('status', ['completed', 'cancelled', 'failed'])
      .count({ n: '*' });
    done += Number(rows[0]?.n ?? 0);
  }
  return ids.length - done;
}

export async function runScenario(
  scenario: Scenario,
  infra: Infrastructure,
  options: Options,
): Promise<Outcome> {
  const began = Date.now();
  const logDir = join(infra.logRoot, scenario.name);
  await mkdir(logDir, { recursive: true });
  const ctx = new ScenarioContext(scenario.name, infra, logDir, options);
  ctx.log(`${scenario.description} (logs: ${logDir})`);
  const outcome: Outcome = {
    name: scenario.name,
    tally: tally([]),
    failures: ctx.failures,
    durationSeconds: 0,
  };
  try {
    ctx.redis = await startRedisServer();
    await migrate(ctx.env());
    await scenario.run(ctx);
    const { records, verification } = await ctx.finish();
    outcome.tally = tally(records);
    outcome.verification = verification;
    if (ctx.faultEnd && ctx.recoveredAt) {
      outcome.recoverySeconds = (ctx.recoveredAt - ctx.faultEnd) / 1000;
    }
    judge(scenario, ctx, outcome);
    for (const line of failureSamples(records)) ctx.log(`outcome: ${line}`);
    ctx.log(`transaction retries: ${JSON.stringify(await ctx.retriesByReason())}`);
    report(ctx, verification);
  } catch (err) {
    outcome.error = (err as Error).message.split('\n').slice(0, 3).join(' | ');
    ctx.log(`ERROR: ${(err as Error).stack ?? err}`);
  } finally {
    const slow = (outcome.recoverySeconds ?? 0) > 10;
    if (outcome.error || outcome.failures.length > 0 || slow) {
      for (const line of await summariseLogs(logDir)) ctx.log(`log: ${line}`);
    }
    await ctx.load?.stop();
    await ctx.stopAll().catch(() => undefined);
    await ctx.cleanup();
    await ctx.redis?.stop().catch(() => undefined);
    outcome.durationSeconds = (Date.now() - began) / 1000;
  }
  return outcome;
}

function judge(scenario: Scenario, ctx: ScenarioContext, outcome: Outcome): void {
  const t = outcome.tally;
  const v = outcome.verification!;
  const must = (count: number, what: string) => {
    if (count > 0) ctx.fail(`${count} ${what}`);
  };
  if (t.attempted === 0) ctx.fail('no request was sent');
  must(v.lost.length, 'acknowledged orders lost (not completed after recovery)');
  must(v.doubled.length, `customers whose read models differ from the recomputation`);
  must(v.unprocessed.length, 'stored but unacknowledged orders left unfinished or failed');
  must(v.phantom.length, 'stored orders the client never sent');
  must(v.corrupt.length, 'stored orders that differ from what was sent');
  must(v.history.length, 'orders with a history that is not one clean lifecycle walk');
  must(t.serverError, '5xx answers other than 503');
  must(t.clientError, '4xx answers to valid orders');
  must(t.timeout, 'requests without an answer within the client timeout');
  if (!scenario.allow.conn) must(t.conn, 'connection errors');
  if (!scenario.allow.unavailable) must(t.unavailable, '503 answers');
  const crashed = ctx.services.filter((s) => s.unexpectedExit);
  must(crashed.length, `processes that exited on their own (${crashed.map((s) => s.name)})`);
  if (ctx.faultEnd && outcome.recoverySeconds === undefined) {
    ctx.fail(`not recovered within ${ctx.options.recoveryTimeoutMs / 1000} s of the load stopping`);
  }
}

function report(ctx: ScenarioContext, v: Verification): void {
  const sample = (ids: string[]) => ids.slice(0, 5).join(', ') + (ids.length > 5 ? ', …' : '');
  if (v.lost.length) ctx.log(`lost: ${sample(v.lost)}`);
  if (v.unacknowledgedStored.length) {
    ctx.log(`stored without acknowledgement: ${v.unacknowledgedStored.length}`);
  }
  if (v.unprocessed.length) ctx.log(`unprocessed: ${sample(v.unprocessed)}`);
  if (v.phantom.length) ctx.log(`phantom: ${sample(v.phantom)}`);
  if (v.corrupt.length) ctx.log(`corrupt: ${sample(v.corrupt)}`);
  if (v.history.length) ctx.log(`history: ${sample(v.history)}`);
  for (const m of v.mismatches.slice(0, 10)) {
    ctx.log(`mismatch ${m.table} ${m.key} ${m.field}: expected ${m.expected}, found ${m.actual}`);
  }
  for (const note of ctx.notes) ctx.log(note);
}
