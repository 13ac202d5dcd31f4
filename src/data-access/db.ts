import knex, { Knex } from 'knex';
import mysql from 'mysql2/promise';

export type Db = Knex;

/**
 * knex over mysql2. Every session runs in UTC and, on Galera, with wsrep_sync_wait=1 so a read
 * after a write on another node is not stale; plain MySQL/MariaDB ignore or lack the variable.
 */
export function createDb(databaseUrl: string, pool = { min: 0, max: 10 }): Db {
  return knex({
    client: 'mysql2',
    connection: {
      ...connectionFromUrl(databaseUrl),
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
      decimalNumbers: false,
      charset: 'utf8mb4',
      connectTimeout: 5000,
    },
    pool: {
      // Longer than a scrape interval (30 s in the chart, 1 min by Prometheus' default) and the
      // reconciler's 30 s: tarn's default 30 s would close the idle connection just before each
      // scrape's query on a quiet worker, which would then open a new one every time.
      idleTimeoutMillis: 120_000,
      ...pool,
      afterCreate(conn: RawConnection, done: (err: Error | null, conn: unknown) => void) {
        conn.query("SET SESSION time_zone = '+00:00'", (err) => {
          if (err) return done(err, conn);
          conn.query('SET SESSION wsrep_sync_wait = 1', (syncErr) => {
            // 1193: unknown system variable (MySQL 8 without Galera).
            done(syncErr && syncErr.errno !== 1193 ? syncErr : null, conn);
          });
        });
      },
    },
    acquireConnectionTimeout: 10000,
    // knex prints failed connection attempts with stack traces to the console; the errors reach
    // our code anyway, and waitFor logs one JSON line per attempt.
    log: { warn() {}, error() {}, deprecate() {}, debug() {} },
  });
}

interface RawConnection {
  query(sql: string, cb: (err: (Error & { errno?: number }) | null) => void): void;
}

/** Creates the database named in DATABASE_URL when it is missing (local use and tests). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = url.pathname.replace(/^\//, '');
  url.pathname = '/';
  const admin = createDb(url.toString(), { min: 0, max: 1 });
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
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('MySQL did not answer in time')), timeoutMs);
      });
      try {
        await Promise.race([connection.then((c) => c.query('SELECT 1')), stalled]);
      } catch (err) {
        drop(connection);
        throw err;
      } finally {
        clearTimeout(timer);
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
