import { spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';

const ROOT = path.resolve(__dirname, '../../..');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a bench entry point (e.g. bench/run.ts) through tsx, as `npm run` would. */
export function runBench(script: string, args: string[]): Promise<Result> {
  return startBench(script, args).result;
}

/** The same, with the child at hand (to interrupt it) and its stderr so far. */
export function startBench(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Result>((resolve) => {
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, result, stderr: () => stderr };
}

/** The databases and Redis keys a bench run with this tag left behind. */
export async function leftovers(tag: string): Promise<{ databases: unknown[]; keys: string[] }> {
  const conn = await mysql.createConnection('mysql://root@127.0.0.1:3306');
  const [databases] = await conn.query('SHOW DATABASES LIKE ?', [`os\\_bench\\_${tag}\\_%`]);
  await conn.end();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `os-bench-${tag}-*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  return { databases: databases as unknown[], keys };
}
