import type { EndpointKey } from './read-data';
import type { WrkResult } from './wrk';

export interface ReadRun {
  round: number;
  /** Orders stored in the database measured. */
  orders: number;
  endpoint: EndpointKey;
  wrk: WrkResult;
  /** InnoDB pages read from disk during the run (server-wide), per request. */
  diskReadsPerRequest: number;
}

export const LABELS: Record<EndpointKey, string> = {
  order: 'GET /orders/{id}',
  items: 'GET /customers/{id}/items',
  summaries: 'GET /customers/summaries',
};

/** 10000 → "10k", 1000000 → "1M". */
export function size(orders: number): string {
  if (orders >= 1e6 && orders % 1e5 === 0) return `${orders / 1e6}M`;
  if (orders >= 1e3 && orders % 100 === 0) return `${orders / 1e3}k`;
  return String(orders);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const num = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/**
 * One row per endpoint: each size's p50, p99 and req/s (medians over the rounds), then the
 * ratio of the p99 medians, large over small, the pages read from disk per request at each
 * size (medians) and the errors of all rounds.
 */
export function readMarkdown(runs: ReadRun[], small: number, large: number): string {
  const [s, l] = [size(small), size(large)];
  const head =
    `| endpoint | p50 ms ${s} | p99 ms ${s} | req/s ${s} | p50 ms ${l} | p99 ms ${l} ` +
    `| req/s ${l} | p99 ${l}/${s} | disk reads/req ${s} → ${l} | errors |`;
  const lines = (Object.keys(LABELS) as EndpointKey[]).map((endpoint) => {
    const of = (orders: number) =>
      runs.filter((r) => r.endpoint === endpoint && r.orders === orders);
    const at = (orders: number) => of(orders).map((r) => r.wrk);
    const m = (ws: WrkResult[], f: (w: WrkResult) => number) => median(ws.map(f));
    const [a, b] = [at(small), at(large)];
    const reads = [small, large]
      .map((o) => num(median(of(o).map((r) => r.diskReadsPerRequest)), 2))
      .join(' → ');
    const cells = (ws: WrkResult[]) => [
      num(
        m(ws, (w) => w.p50Ms),
        1,
      ),
      num(
        m(ws, (w) => w.p99Ms),
        1,
      ),
      num(m(ws, (w) => w.requestsPerS)),
    ];
    const errors = [...a, ...b].reduce((n, w) => n + w.non2xx + w.socketErrors + w.timeouts, 0);
    const ratio = m(b, (w) => w.p99Ms) / m(a, (w) => w.p99Ms);
    const shown = Number.isFinite(ratio) ? `x${ratio.toFixed(2)}` : '–';
    return [LABELS[endpoint], ...cells(a), ...cells(b), shown, reads, String(errors)].join(' | ');
  });
  return [head, '|' + '---|'.repeat(10), ...lines.map((l) => `| ${l} |`)].join('\n');
}
