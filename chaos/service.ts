/*
 * The service under test as real processes: `src/main.ts ROLE` through tsx (startMain), each
 * with its own PORT and METRICS_PORT, its log lines written to a file for the diagnosis.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../test/helpers/processes';
import { startMain } from '../test/helpers/service-process';
import { sleep, terminate, track } from './servers';

export const MANAGER = { username: 'chaos', password: 'chaos-manager-password' };
export const AUTHORIZATION =
  'Basic ' + Buffer.from(`${MANAGER.username}:${MANAGER.password}`).toString('base64');

export interface ServiceEnv {
  databaseUrl: string;
  redisUrl: string;
  /** Queue, lock and limiter key prefix; honoured once src/config.ts reads REDIS_PREFIX. */
  redisPrefix: string;
  logDir: string;
}

export interface ServiceProcess {
  readonly name: string;
  readonly role: 'api' | 'worker';
  readonly port: number;
  readonly metricsPort: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly child: ChildProcess;
  /** Exit code or signal once it has exited. */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly alive: boolean;
  /** Exit the scenario did not cause: a crash. */
  readonly unexpectedExit: boolean;
  ready(): Promise<boolean>;
  waitReady(timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after the grace); returns the exit code. */
  terminate(graceMs?: number): Promise<number | null>;
  kill(): Promise<void>;
  metrics(): Promise<string>;
}

function baseEnv(env: ServiceEnv): Record<string, string> {
  return {
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    REDIS_PREFIX: env.redisPrefix,
    JWT_SECRET: 'chaos-suite-secret-that-is-at-least-32-bytes',
    MIGRATE_ON_START: 'false',
    // The load comes from one address; the limiter is not what these scenarios test.
    RATE_LIMIT_MAX: '1000000',
    SHUTDOWN_TIMEOUT_SECONDS: '10',
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
}

/** Runs the migrate role to completion (creating the database) before the services start. */
export async function migrate(env: ServiceEnv): Promise<void> {
  const child = track(startMain(['migrate'], baseEnv(env)));
  let output = '';
  for (const s of [child.stdout, child.stderr]) s?.on('data', (d: Buffer) => (output += d));
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`migrate exited with ${code}:\n${output.slice(-2000)}`);
}

export async function startService(
  role: 'api' | 'worker',
  name: string,
  env: ServiceEnv,
  /** A restarted process may take its predecessor's ports, as a pod behind a Service would. */
  ports?: { port: number; metricsPort: number },
): Promise<ServiceProcess> {
  const port = ports?.port ?? (await freePort());
  const metricsPort = ports?.metricsPort ?? (await freePort());
  const child = track(
    startMain([role], {
      ...baseEnv(env),
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      ...(role === 'api'
        ? { ADMIN_USERNAME: MANAGER.username, ADMIN_PASSWORD: MANAGER.password }
        : {}),
    }),
  );
  child.stdin?.end();
  const log = createWriteStream(join(env.logDir, `${name}.log`), { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let expected = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const alive = () => child.exitCode === null && child.signalCode === null;

  async function ready(): Promise<boolean> {
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  return {
    name,
    role,
    port,
    metricsPort,
    url,
    child,
    exit,
    get alive() {
      return alive();
    },
    get unexpectedExit() {
      return !expected && !alive();
    },
    ready,
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (!alive()) throw new Error(`${name} exited before it was ready (see ${name}.log)`);
        if (await ready()) return;
        await sleep(200);
      }
      throw new Error(`${name} was not ready within ${timeoutMs} ms (see ${name}.log)`);
    },
    async terminate(graceMs = 20_000) {
      expected = true;
      await terminate(child, 'SIGTERM', graceMs);
      return child.exitCode;
    },
    async kill() {
      expected = true;
      await terminate(child, 'SIGKILL');
    },
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
        signal: AbortSignal.timeout(5000),
      });
      return res.text();
    },
  };
}
