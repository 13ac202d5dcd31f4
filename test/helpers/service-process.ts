import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { waitUntil } from './harness';
import { freePort, stop, waitForPort } from './processes';

const ROOT = path.resolve(__dirname, '../..');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `main.ts ROLE ...args` through tsx to completion. */
export function runMain(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = startMain(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.end(stdin ?? '');
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `main.ts ROLE ...args` as its own process, with only the given environment. */
export function startMain(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Collects a child's output lines as they come. */
export function collect(child: ChildProcess): string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
  }
  return lines;
}

export interface Service {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** Every stdout and stderr line so far. */
  lines: string[];
  /** Sends the signal (SIGKILL by default) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `main.ts ROLE` with only `env`, on free ports unless it names PORT / METRICS_PORT; by default resolves once
 * /readyz answers 200, and on failure stops the process and throws with its output.
 */
export async function startRole(
  role: 'all' | 'api' | 'worker',
  env: Record<string, string>,
  { waitReady = true, timeoutMs = 30_000 } = {},
): Promise<Service> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : await freePort();
  const child = startMain([role], {
    ...env,
    PORT: String(port),
    METRICS_PORT: String(metricsPort),
  });
  const lines = collect(child);
  const service: Service = {
    child,
    port,
    metricsPort,
    base: `http://127.0.0.1:${port}`,
    lines,
    stop: (signal) => stop(child, signal),
  };
  try {
    await waitForPort(port, timeoutMs);
    if (waitReady) {
      await waitUntil(
        async () => (await fetch(`${service.base}/readyz`).catch(() => undefined))?.status === 200,
        { timeoutMs, what: `${role} readiness` },
      );
    }
  } catch (err) {
    await service.stop();
    throw new Error(`${(err as Error).message}\n${lines.join('\n')}`);
  }
  return service;
}
