/*
 * `npm run bench` runs from a fresh clone: it builds, starts the three targets, drives them with
 * wrk and prints the table; afterwards its databases and Redis keys are gone. A system suite
 * (test/system-suites.js): it needs `wrk`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { leftovers, runBench, Result } from './helpers/run-bench';

jest.setTimeout(150_000);

let dir: string;
let result: Result;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
  result = await runBench('bench/run.ts', [
    ...['--duration', '3', '--rounds', '1', '--drain-timeout', '20', '--sustain', '3'],
    ...['--out', path.join(dir, 'bench.json')],
  ]);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** The table's row cells for a target and scenario label. */
function row(target: string, scenario: string): string[] {
  const line = result.stdout.split('\n').find((l) => l.startsWith(`| ${target} | ${scenario} |`));
  if (!line) throw new Error(`no row for ${target} / ${scenario}:\n${result.stdout}`);
  return line.split('|').map((c) => c.trim());
}

it('exits 0 and prints a row with non-zero throughput for every target', () => {
  expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
    code: 0,
    stderr: '',
  });
  const rows = [
    ['order-service', '1 order/POST, 32 conn'],
    ['order-service', '1 order/POST, 32 conn, Bearer'],
    ['order-service', '100 orders/POST, 4 conn'],
    ['naive peer', '1 order/POST, 32 conn'],
    ['naive peer', '100 orders/POST, 4 conn'],
    ['no-op', '1 order/POST, 32 conn'],
    ['no-op', '100 orders/POST, 4 conn'],
  ];
  for (const [target, scenario] of rows) {
    const [, , , requestsPerS, ordersPerS] = row(target!, scenario!);
    expect({ target, scenario, requestsPerS: Number(requestsPerS) > 0 }).toEqual({
      target,
      scenario,
      requestsPerS: true,
    });
    expect(Number(ordersPerS)).toBeGreaterThan(0);
  }
  expect(result.stdout).toContain(`Raw JSON: ${path.join(dir, 'bench.json')}`);
});

it('counts SQL statements and Redis commands per order for the targets with a database', () => {
  const header = result.stdout.split('\n').find((l) => l.startsWith('| target | scenario |'))!;
  const columns = header.split('|').map((c) => c.trim());
  const [sql, redis] = [columns.indexOf('SQL/order'), columns.indexOf('Redis/order')];
  for (const target of ['order-service', 'naive peer']) {
    const cells = row(target, '1 order/POST, 32 conn');
    expect(Number(cells[sql])).toBeGreaterThan(0);
    expect(Number(cells[redis])).toBeGreaterThan(0);
  }
  expect(row('no-op', '1 order/POST, 32 conn')[sql]).toBe('–');
});

it("runs order-service at the naive peer's single-order rate and reports the queue", () => {
  const lines = result.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('| target rate/s |'));
  expect(at).toBeGreaterThan(0);
  const cells = lines[at + 2]!.split('|').map((c) => c.trim());
  // target rate, achieved, errors, POST p99, pending max, at end, p50, p99 accept → completed
  expect(Number(cells[1])).toBeGreaterThan(0);
  expect(Number(cells[2])).toBeGreaterThan(0);
  expect(Number(cells[8])).toBeGreaterThan(0);
});

it('writes the raw runs as JSON and leaves no database or Redis key behind', async () => {
  const raw = JSON.parse(await readFile(path.join(dir, 'bench.json'), 'utf8')) as {
    tag: string;
    runs: unknown[];
  };
  expect(raw.runs).toHaveLength(7);
  expect(await leftovers(raw.tag)).toEqual({ databases: [], keys: [] });
});
