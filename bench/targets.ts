import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../test/helpers/processes';

const ROOT = path.resolve(__dirname, '..');

export type TargetName = 'order-service' | 'naive peer' | 'no-op';

export interface Target {
  name: TargetName;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Its database, when it stores orders. */
  databaseUrl?: string;
  pid: number;
}

/** CPU seconds (user + system) the process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces); utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

export interface Backing {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
}

export const ADMIN = { username: 'bench', password: randomBytes(12).toString('hex') };

/**
/**
 * `node dist/main.js all` (or another role) with its own database and prefix, the admin user,
 * no rate limit; `nodeArgs` go before the script (bench/profile.ts passes --cpu-prof).
 */
export async function startService(
  b: Backing,
  { role = 'all', nodeArgs = [] }: { role?: 'all' | 'api'; nodeArgs?: string[] } = {},
): Promise<Target> {
  const port = await freePort();
  const env = {
    PORT: String(port),
    METRICS_PORT: String(await freePort()),
    METRICS_HOST: '127.0.0.1',
    DATABASE_URL: b.databaseUrl,
    REDIS_URL: b.redisUrl,
    REDIS_PREFIX: b.redisPrefix,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    JWT_SECRET: randomBytes(32).toString('hex'),
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'warn',
  };
  const child = start([...nodeArgs, 'dist/main.js', role], env);
  await waitReady(child, `http://127.0.0.1:${port}/readyz`, 'order-service');
  return target(child, 'order-service', port, b.databaseUrl);
}

/** A Bearer token for the admin user, from the service's POST /auth/token. */
export async function bearerToken(service: Target): Promise<string> {
  const basic = Buffer.from(`${ADMIN.username}:${ADMIN.password}`);
  const res = await fetch(`${service.url}/auth/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${basic.toString('base64')}` },
  });
  if (res.status !== 200) throw new Error(`POST /auth/token answered ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** bench/naive-peer.ts through tsx, on a database already migrated. */
export async function startPeer(b: Backing): Promise<Target> {
  const port = await freePort();
  const env = {
    PORT: String(port),
    DATABASE_URL: b.databaseUrl,
    REDIS_URL: b.redisUrl,
    REDIS_PREFIX: b.redisPrefix,
  };
  const child = start(['--import', 'tsx', 'bench/naive-peer.ts'], env);
  await waitReady(child, `http://127.0.0.1:${port}/healthz`, 'naive peer');
  return target(child, 'naive peer', port, b.databaseUrl);
}

export async function startNoop(): Promise<Target> {
  const port = await freePort();
  const child = start(['--import', 'tsx', 'bench/noop-server.ts'], { PORT: String(port) });
  await waitReady(child, `http://127.0.0.1:${port}/healthz`, 'no-op');
  return target(child, 'no-op', port);
}

/** `node dist/main.js migrate`: creates the database and applies order-service's schema. */
export async function migrate(databaseUrl: string): Promise<void> {
  const child = start(['dist/main.js', 'migrate'], {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'warn',
  });
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`migrate exited ${code}:\n${output.get(child)?.join('')}`);
}

/** Every child still running, so a failure or Ctrl-C can stop them all. */
export const running = new Set<ChildProcess>();
const output = new WeakMap<ChildProcess, string[]>();

function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep the last lines for error messages; reading the pipes keeps the child from blocking.
  const tail: string[] = [];
  output.set(child, tail);
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (d: Buffer) => {
      tail.push(d.toString());
      if (tail.length > 40) tail.shift();
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function waitReady(child: ChildProcess, url: string, name: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await stopChild(child, 'SIGKILL');
  throw new Error(`${name} did not become ready:\n${output.get(child)?.join('')}`);
}

function target(child: ChildProcess, name: TargetName, port: number, databaseUrl?: string): Target {
  return { name, url: `http://127.0.0.1:${port}`, databaseUrl, pid: child.pid! };
}

/** Signals the child and waits for it, escalating to SIGKILL after 15 s. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
