import type { Redis } from 'ioredis';
import type { Db } from './db';

export interface SettingCheck {
  dependency: 'redis' | 'mysql';
  setting: string;
  actual: string;
  expected: string;
  ok: boolean;
  /** What a wrong value risks. */
  risk: string;
}

/**
 * Redis must keep every job: `maxmemory-policy noeviction` (an evicted job is a lost order
 * until the reconciler finds it) and AOF persistence (without it a restart loses every job).
 * Read through INFO, which managed Redis services allow where CONFIG GET is refused.
 */
export async function checkRedisSettings(redis: Redis): Promise<SettingCheck[]> {
  const info = parseInfo(await redis.info());
  const policy = info.get('maxmemory_policy') ?? 'unknown';
  const aof = info.get('aof_enabled') ?? 'unknown';
  return [
    {
      dependency: 'redis',
      setting: 'maxmemory-policy',
      actual: policy,
      expected: 'noeviction',
      ok: policy === 'noeviction',
      risk: 'Redis may evict queued jobs under memory pressure',
    },
    {
      dependency: 'redis',
      setting: 'appendonly',
      actual: aof === '1' ? 'yes' : aof === '0' ? 'no' : aof,
      expected: 'yes',
      ok: aof === '1',
      risk: 'a Redis restart loses every queued job (the reconciler re-enqueues them)',
    },
  ];
}

/**
 * MySQL must not lose a commit it acknowledged: `innodb_flush_log_at_trx_commit=1` (Jepsen lost
 * acknowledged writes on Galera without it). wsrep_sync_wait, needed on Galera for
 * read-your-writes, is set by db.ts on every session, so it is not left to the server.
 */
export async function checkMysqlSettings(db: Db): Promise<SettingCheck[]> {
  const [rows] = (await db.raw(
    "SHOW GLOBAL VARIABLES WHERE Variable_name = 'innodb_flush_log_at_trx_commit'",
  )) as [{ Variable_name: string; Value: string }[]];
  const value = (name: string) => rows.find((r) => r.Variable_name === name)?.Value;
  const flush = value('innodb_flush_log_at_trx_commit') ?? 'unknown';
  return [
    {
      dependency: 'mysql',
      setting: 'innodb_flush_log_at_trx_commit',
      actual: flush,
      expected: '1',
      ok: flush === '1',
      risk: 'a crash can lose commits that were acknowledged',
    },
  ];
}

function parseInfo(text: string): Map<string, string> {
  const entries = text
    .split(/\r?\n/)
    .filter((line) => line.includes(':') && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at), line.slice(at + 1).trim()] as const;
    });
  return new Map(entries);
}
