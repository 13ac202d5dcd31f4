import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';

export interface Machine {
  cores: number;
  cpu: string;
  kernel: string;
  node: string;
  mysql: string;
  redis: string;
  wrk: string;
  /** 1-minute load average when the bench started: other work on the machine skews it. */
  loadAverage: number;
}

/** What a reader needs to compare these numbers with theirs. */
export async function describeMachine(mysqlUrl: string, redisUrl: string): Promise<Machine> {
  const conn = await mysql.createConnection(mysqlUrl);
  const [rows] = await conn.query('SELECT VERSION() AS v');
  await conn.end();
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  const wrk = execFileSync('sh', ['-c', 'wrk --version 2>&1 || true']).toString();
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    mysql: (rows as { v: string }[])[0]!.v,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    wrk: wrk
      .split('\n')[0]!
      .replace(/ Copyright.*/, '')
      .trim(),
    loadAverage: os.loadavg()[0]!,
  };
}

export const machineLine = (m: Machine) =>
  `${m.cores} cores (${m.cpu}), ${m.kernel}, Node ${m.node}, MySQL ${m.mysql}, ` +
  `Redis ${m.redis}, ${m.wrk}; load average at start ${m.loadAverage.toFixed(1)}`;
