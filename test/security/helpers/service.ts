import { waitUntil } from '../../helpers/harness';
import type { Service } from '../../helpers/service-process';

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
