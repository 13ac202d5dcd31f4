/*
 * `npm run bench:reads` with tiny sizes: it builds, seeds, measures the three read endpoints at
 * both sizes, prints the table; afterwards its database and Redis keys are gone. A system suite
 * (test/system-suites.js): it needs `wrk`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitUntil } from '../helpers/harness';
import { leftovers, runBench, Result, startBench } from './helpers/run-bench';

jest.setTimeout(150_000);

let dir: string;
let result: Result;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bench-reads-'));
  result = await runBench('bench/reads.ts', [
    ...['--small', '2000', '--large', '5000', '--duration', '1', '--rounds', '1', '--limit', '10'],
    ...['--out', path.join(dir, 'reads.json')],
  ]);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

const ENDPOINTS = ['GET /orders/{id}', 'GET /customers/{id}/items', 'GET /customers/summaries'];

it('exits 0 and prints one row per endpoint with both sizes and their p99 ratio', () => {
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
    code: 0,
    stderr: '',
  });
  const table = result.stdout.split('\n').filter((l) => l.startsWith('|'));
  expect(table[0]).toBe(
    '| endpoint | p50 ms 2k | p99 ms 2k | req/s 2k | p50 ms 5k | p99 ms 5k | req/s 5k ' +
      '| p99 5k/2k | disk reads/req 2k → 5k | errors |',
  );
  expect(table.slice(2).map((l) => l.split('|')[1]!.trim())).toEqual(ENDPOINTS);
  for (const line of table.slice(2)) {
    const cells = line
      .split('|')
      .slice(2, -1)
      .map((c) => c.trim());
    expect(cells).toHaveLength(9);
    const [p50s, p99s, rps, p50l, p99l, rpl] = cells.slice(0, 6).map(Number);
    for (const n of [p50s, p99s, rps, p50l, p99l, rpl]) expect(n).toBeGreaterThan(0);
    // The ratio is of the unrounded p99s; the cells show them rounded, so allow for that.
    expect(cells[6]).toMatch(/^x\d+\.\d\d$/);
    const ratio = p99l! / p99s!;
    const slack = ratio * (0.05 / p99s! + 0.05 / p99l!) + 0.005; // cells have one decimal
    expect(Math.abs(Number(cells[6]!.slice(1)) - ratio)).toBeLessThanOrEqual(slack + 1e-9);
    expect(cells[7]).toMatch(/^\d+\.\d\d → \d+\.\d\d$/);
    expect(cells[8]).toBe('0');
  }
  expect(result.stdout).toMatch(/Seeded 2000 orders \(\d+ customers\) in [\d.]+ s; Seeded 5000/);
  expect(result.stdout).toContain(`Raw JSON: ${path.join(dir, 'reads.json')}`);
});

it('writes every run as JSON, walks summary pages, and leaves no database or Redis key', async () => {
  const raw = JSON.parse(await readFile(path.join(dir, 'reads.json'), 'utf8')) as {
    tag: string;
    runs: { orders: number; endpoint: string; wrk: { counts: Record<string, number> } }[];
  };
  expect(raw.runs.map((r) => `${r.orders} ${r.endpoint}`)).toEqual([
    ...['2000 order', '2000 items', '2000 summaries'],
    ...['5000 order', '5000 items', '5000 summaries'],
  ]);
  const summaries = raw.runs.find((r) => r.orders === 5000 && r.endpoint === 'summaries')!;
  expect(summaries.wrk.counts.next_page).toBeGreaterThan(0);
  expect(summaries.wrk.counts.deep_cursor).toBeGreaterThan(0);
  expect(await leftovers(raw.tag)).toEqual({ databases: [], keys: [] });
});

it('cleans up when interrupted while seeding', async () => {
  const bench = startBench('bench/reads.ts', ['--small', '50000', '--large', '60000']);
  const tag = await waitUntil(
    async () => /seeding 50000 orders.*run ([0-9a-f]{6})/s.exec(bench.stderr())?.[1],
    {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'the bench to start seeding',
    },
  );
  bench.child.kill('SIGINT');
  const { code } = await bench.result;
  expect(code).toBe(130);
  expect(await leftovers(tag)).toEqual({ databases: [], keys: [] });
});
