import knex, { Knex } from 'knex';
import mysql from 'mysql2/promise';
import { withTimeout } from '../lib/with-timeout';
import { isUnknownSystemVariable, queryTimeoutError } from './mysql-errors';

export type Db = Knex;

/**
 * How long one statement may go unanswered before its connection is dropped and the caller gets
 * a "MySQL unavailable" error (503 for a request, a later retry for a job). A paused or
 * partitioned server otherwise holds requests for as long as it is away.
 */
export const QUERY_DEADLINE_MS = 2000;

export interface DbOptions {
  /** 0 for none: migrations may run long statements. */
  queryDeadlineMs?: number;
}

/**
 * knex over mysql2. Every session runs in UTC and, on Galera, with wsrep_sync_wait=1 so a read
 * after a write on another node is not stale; plain MySQL/MariaDB ignore or lack the variable.
 */
export function createDb(
  databaseUrl: string,
  pool = { min: 0, max: 10 },
  { queryDeadlineMs = QUERY_DEADLINE_MS }: DbOptions = {},
): Db {
  return knex({
    client: 'mysql2',
    connection: {
      ...connectionFromUrl(databaseUrl),
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
      charset: 'utf8mb4',
      connectTimeout: 2000,
    },
    pool: {
      // Longer than a scrape interval (30 s in the chart, 1 min by Prometheus' default) and the
      // reconciler's 30 s: tarn's default 30 s would close the idle connection just before each
      // scrape's query on a quiet worker, which would then open a new one every time.
      idleTimeoutMillis: 120_000,
      ...pool,
      afterCreate(conn: RawConnection, done: (err: Error | null, conn: unknown) => void) {
        if (queryDeadlineMs > 0) withDeadline(conn, queryDeadlineMs);
        conn.query("SET SESSION time_zone = '+00:00'", (err) => {
          if (err) return done(err, conn);
          conn.query('SET SESSION wsrep_sync_wait = 1', (syncErr) => {
            // MySQL 8 without Galera has no such variable.
            done(syncErr && !isUnknownSystemVariable(syncErr) ? syncErr : null, conn);
          });
        });
      },
    },
    // A new connection is given connectTimeout; waiting longer for the pool means MySQL is
    // overloaded or away, and the caller is better told so.
    acquireConnectionTimeout: 3000,
    // knex prints failed connection attempts with stack traces to the console; the errors reach
    // our code anyway, and waitFor logs one JSON line per attempt.
    log: { warn() {}, error() {}, deprecate() {}, debug() {} },
  });
}

export interface PoolStats {
  used: number;
  idle: number;
  max: number;
  pendingAcquires: number;
}

/** The tarn pool inside knex: not public API, so this is the one place that reads it. */
interface TarnPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/** The pool's connection counts; undefined once the pool is destroyed. */
export function poolStats(db: Db): PoolStats | undefined {
  const pool = (db.client as { pool?: TarnPool }).pool;
  if (!pool) return undefined;
  return {
    used: pool.numUsed(),
    idle: pool.numFree(),
    max: pool.max,
    pendingAcquires: pool.numPendingAcquires(),
  };
}

interface RawConnection {
  query(sql: string, cb: (err: Error | null) => void): void;
  destroy(): void;
  stream?: { destroy(): void };
}

/**
 * Every statement on this mysql2 connection fails after `ms` without an answer, and the
 * connection is dropped (knex then discards it: its `_closing` is set), since a late answer
 * would belong to no one. The statement may still have run; for a COMMIT the outcome is
 * unknown, which is what Idempotency-Key retries are for.
 */
function withDeadline(conn: RawConnection, ms: number): void {
  const query = conn.query as (...args: unknown[]) => unknown;
  (conn as { query: unknown }).query = function (this: unknown, ...args: unknown[]) {
    const at = args.findIndex((a) => typeof a === 'function');
    if (at < 0) return query.apply(this, args);
    const callback = args[at] as (...result: unknown[]) => void;
    let answered = false;
    const timer = setTimeout(() => {
      answered = true;
      conn.destroy();
      conn.stream?.destroy();
      callback(queryTimeoutError(ms));
    }, ms);
    args[at] = (...result: unknown[]) => {
      clearTimeout(timer);
      if (!answered) callback(...result);
      answered = true;
    };
    return query.apply(this, args);
  };
}

/** Creates the database named in DATABASE_URL when it is missing (local use and tests). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const { database: name } = connectionFromUrl(databaseUrl);
  url.pathname = '/';
  const admin = createDb(url.toString(), { min: 0, max: 1 }, { queryDeadlineMs: 0 });
  try {
    await admin.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [
      name,
    ]);
  } finally {
    await admin.destroy();
  }
}

/** DATABASE_URL as mysql2 connection options (also used by knexfile.ts). */
export function connectionFromUrl(databaseUrl: string) {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    timezone: 'Z',
  };
}

export interface MysqlProbe {
  /** Resolves when MySQL answers a query now. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Can MySQL be reached right now? Asked on a connection of its own rather than one from the
 * pool (a pool saturated by slow queries is not an unreachable MySQL and must not fail
 * readiness), and on the same one each time, so probing costs one connection per process. A
 * connection that errs or stalls is dropped and the next check opens a new one.
 */
export function createMysqlProbe(databaseUrl: string, timeoutMs = 2000): MysqlProbe {
  let current: Promise<mysql.Connection> | undefined;
  let closed = false;

  function connect(): Promise<mysql.Connection> {
    const opening = mysql.createConnection({
      ...connectionFromUrl(databaseUrl),
      connectTimeout: timeoutMs,
    });
    // Dropped as soon as it breaks while idle (MySQL restarted), so the next check opens a
    // new connection instead of failing once on the dead one.
    opening.then(
      (connection) => connection.on('error', () => drop(opening)),
      () => drop(opening),
    );
    return opening;
  }

  function drop(connection: Promise<mysql.Connection>): void {
    if (current === connection) current = undefined;
    connection.then(
      (c) => c.destroy(),
      () => undefined,
    );
  }

  return {
    async check() {
      if (closed) throw new Error('the MySQL probe is closed');
      const connection = (current ??= connect());
      const outcome = await withTimeout(
        connection.then((c) => c.query('SELECT 1')),
        timeoutMs,
      ).catch((err: Error) => {
        drop(connection);
        throw err;
      });
      if (!outcome.done) {
        drop(connection);
        throw new Error('MySQL did not answer in time');
      }
    },
    async close() {
      closed = true;
      const connection = current;
      current = undefined;
      await (await connection?.catch(() => undefined))?.end();
    },
  };
}
