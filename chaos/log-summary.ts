/*
 * For the diagnosis of a failed scenario: the warnings and errors its processes logged,
 * counted per process and message (with the first error text), plus lines that are not JSON.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface LogLine {
  level?: string;
  message?: string;
  error?: string;
  status_code?: string;
  route?: string;
}

export async function summariseLogs(dir: string, limit = 25): Promise<string[]> {
  const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.log'));
  const counts = new Map<string, { n: number; first: string }>();
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    const process = file.replace(/\.log$/, '');
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let key: string;
      let first = '';
      try {
        const line = JSON.parse(raw) as LogLine;
        // /readyz answers 503 by design while starting or while a dependency is down.
        const serverError =
          line.message === 'request' && Number(line.status_code) >= 500 && line.route !== '/readyz';
        if (line.level !== 'warn' && line.level !== 'error' && !serverError) continue;
        key = `${process} ${line.level}: ${line.message}${serverError ? ` ${line.status_code} ${line.route}` : ''}`;
        first = line.error ?? '';
      } catch {
        key = `${process} (not JSON): ${raw.slice(0, 120)}`;
      }
      const entry = counts.get(key) ?? { n: 0, first };
      entry.n += 1;
      counts.set(key, entry);
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, limit)
    .map(([key, { n, first }]) => `${n} × ${key}${first ? ` (${first.slice(0, 140)})` : ''}`);
}
