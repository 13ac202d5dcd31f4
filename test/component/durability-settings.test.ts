import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Harness, startHarness } from '../helpers/harness';
import { freePort, stop, waitForPort } from '../helpers/processes';

/** Issue 9: the Redis and MySQL settings the service needs are checked at start-up. */

async function redisServer(...flags: string[]) {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...flags], {
    stdio: 'ignore',
  });
  await waitForPort(port);
  return { port, child };
}

async function settingGauge(h: Harness, setting: string) {
  const { values } = await h.services.metrics.durabilitySetting.get();
  return values.find((v) => v.labels.setting === setting)?.value;
}

it('warns about a Redis that may evict jobs or lose them on restart, and says so in a metric', async () => {
  const redis = await redisServer(
    '--save',
    '',
    '--appendonly',
    'no',
    '--maxmemory-policy',
    'allkeys-lru',
  );
  const h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${redis.port}` });
  try {
    await h.services.checkDurability();
    const warnings = h.logs.filter((l) => l.includes('setting risks data loss'));
    expect(warnings.some((l) => l.includes('maxmemory-policy') && l.includes('allkeys-lru'))).toBe(
      true,
    );
    expect(warnings.some((l) => l.includes('appendonly'))).toBe(true);
    expect(await settingGauge(h, 'maxmemory-policy')).toBe(0);
    expect(await settingGauge(h, 'appendonly')).toBe(0);
  } finally {
    await h.stop();
    await stop(redis.child);
  }
});

it('is quiet about a Redis with noeviction and AOF, and reads the MySQL flush setting', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aof-'));
  const redis = await redisServer(
    '--save',
    '',
    '--appendonly',
    'yes',
    '--dir',
    dir,
    '--maxmemory-policy',
    'noeviction',
  );
  const h = await startHarness({ REDIS_URL: `redis://127.0.0.1:${redis.port}` });
  try {
    await h.services.checkDurability();
    expect(h.logs.filter((l) => l.includes('redis setting risks data loss'))).toEqual([]);
    expect(await settingGauge(h, 'maxmemory-policy')).toBe(1);
    expect(await settingGauge(h, 'appendonly')).toBe(1);
    const [rows] = await h.services.db.raw('SELECT @@innodb_flush_log_at_trx_commit AS v');
    expect(await settingGauge(h, 'innodb_flush_log_at_trx_commit')).toBe(
      String(rows[0].v) === '1' ? 1 : 0,
    );
  } finally {
    await h.stop();
    await stop(redis.child);
    rmSync(dir, { recursive: true, force: true });
  }
});
