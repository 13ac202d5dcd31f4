import type { ChildProcess } from 'node:child_process';
import { waitUntil } from '../../helpers/harness';
import { freePort, stop, waitForPort } from '../../helpers/processes';
import { collect, startMain } from '../../helpers/service-process';

export interface Service {
  child: ChildProcess;
  port: number;
  /** Every stdout and stderr line so far. */
  lines: string[];
  stop(): Promise<void>;
}

/** `main.ts ROLE` on free ports, with only `env`, once /readyz answers 200. */
export async function startService(
  role: 'api' | 'all',
  env: Record<string, string>,
): Promise<Service> {
  const port = await freePort();
  const child = startMain([role], {
    ...env,
    PORT: String(port),
    METRICS_PORT: String(await freePort()),
  });
  const lines = collect(child);
  const service = { child, port, lines, stop: async () => void (await stop(child)) };
  try {
    await waitForPort(port, 30_000);
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      what: `${role} readiness`,
    });
  } catch (err) {
    await service.stop();
    throw new Error(`${(err as Error).message}\n${lines.join('\n')}`);
  }
  return service;
}

export interface LogLine {
  message?: string;
  [field: string]: unknown;
}

/** The JSON log lines among a process's output. */
export function logLines(lines: string[]): LogLine[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** Waits for the service's access log line of one request. */
export function accessLine(service: Service, requestId: string): Promise<LogLine> {
  return waitUntil(
    async () =>
      logLines(service.lines).find((l) => l.message === 'request' && l.request_id === requestId),
    { timeoutMs: 5_000, what: `the access log line of ${requestId}` },
  );
}
