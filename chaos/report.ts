import type { Outcome } from './scenario';

export type Verdict = 'PASS' | 'FAIL' | 'ERROR';

export function verdictOf(o: Outcome): Verdict {
  if (o.error) return 'ERROR';
  return o.failures.length > 0 ? 'FAIL' : 'PASS';
}

/** Pairs, not an object: keys like '503' would be put first by JavaScript's key order. */
function columns(o: Outcome): [string, string][] {
  const t = o.tally;
  const v = o.verification;
  const anomalies = v
    ? v.unprocessed.length + v.phantom.length + v.corrupt.length + v.history.length
    : undefined;
  const recovery =
    o.recoverySeconds !== undefined ? `${o.recoverySeconds.toFixed(1)}s` : o.error ? '-' : 'never';
  return [
    ['attempted', String(t.attempted)],
    ['acked', String(t.ack)],
    ['503', String(t.unavailable)],
    ['5xx', String(t.serverError)],
    ['conn', String(t.conn)],
    ['timeout', String(t.timeout)],
    ['4xx', String(t.clientError)],
    ['orders', String(t.ackedOrders)],
    ['lost', v ? String(v.lost.length) : '-'],
    ['doubled', v ? String(v.doubled.length) : '-'],
    ['anomalies', anomalies === undefined ? '-' : String(anomalies)],
    ['recovery', recovery],
    ['slowest', `${(t.slowestMs / 1000).toFixed(1)}s`],
  ];
}

/** The one line a scenario prints. */
export function summaryLine(o: Outcome): string {
  const fields = columns(o)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const why = o.error ? ` (${o.error})` : o.failures.length ? ` (${o.failures.join('; ')})` : '';
  return `chaos ${o.name}: ${fields} ${verdictOf(o)}${why}`;
}

export function table(outcomes: Outcome[]): string {
  const head = ['scenario', ...columns(outcomes[0]!).map(([k]) => k), 'time', 'verdict'];
  const rows = outcomes.map((o) => [
    o.name,
    ...columns(o).map(([, v]) => v),
    `${Math.round(o.durationSeconds)}s`,
    verdictOf(o),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
