/*
 * The load: POST /orders with single orders and small batches at a bounded rate and
 * concurrency, over keep-alive connections (Node's fetch pools them per origin, as most HTTP
 * clients do), recording every outcome. Nothing is retried: what a request got is what the
 * client knows, and only 2xx answers count as acknowledged.
 */
import { randomUUID } from 'node:crypto';
import { generateRequest, seededRandom, SentOrder } from './order-generator';
import { AUTHORIZATION } from './service';
import { sleep } from './servers';

export type OutcomeKind =
  'ack' | 'unavailable' | 'server-error' | 'client-error' | 'conn' | 'timeout';

export interface RequestRecord {
  orders: SentOrder[];
  target: string;
  startedAt: number;
  endedAt: number;
  kind: OutcomeKind;
  status?: number;
  /** Problem title or error code, for the diagnosis. */
  detail?: string;
}

export interface LoadOptions {
  /** Base URLs, used round robin; read before every request, so a scenario may change them. */
  targets: () => string[];
  idPrefix: string;
  concurrency?: number;
  ratePerSecond?: number;
  timeoutMs?: number;
  seed?: number;
}

export interface Tally {
  attempted: number;
  ack: number;
  unavailable: number;
  serverError: number;
  clientError: number;
  conn: number;
  timeout: number;
  ackedOrders: number;
  /** The longest wait for an answer, in ms. */
  slowestMs: number;
}

export function tally(records: RequestRecord[]): Tally {
  const count = (kind: OutcomeKind) => records.filter((r) => r.kind === kind).length;
  return {
    attempted: records.length,
    ack: count('ack'),
    unavailable: count('unavailable'),
    serverError: count('server-error'),
    clientError: count('client-error'),
    conn: count('conn'),
    timeout: count('timeout'),
    ackedOrders: records.filter((r) => r.kind === 'ack').reduce((n, r) => n + r.orders.length, 0),
    slowestMs: records.reduce((m, r) => Math.max(m, r.endedAt - r.startedAt), 0),
  };
}

/** The most frequent outcome details other than acknowledgements, for the diagnosis. */
export function failureSamples(records: RequestRecord[], limit = 6): string[] {
  const counts = new Map<string, { n: number; first: number; last: number }>();
  for (const r of records) {
    if (r.kind === 'ack') continue;
    const key = `${r.kind}${r.status ? ' ' + r.status : ''}: ${r.detail ?? ''}`;
    const c = counts.get(key) ?? { n: 0, first: r.endedAt, last: r.endedAt };
    c.n += 1;
    c.first = Math.min(c.first, r.endedAt);
    c.last = Math.max(c.last, r.endedAt);
    counts.set(key, c);
  }
  const clock = (t: number) => new Date(t).toISOString().slice(11, 23);
  return [...counts.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .slice(0, limit)
    .map(([key, c]) => `${c.n} × ${key} (answered ${clock(c.first)}..${clock(c.last)})`);
}

export function classifyStatus(status: number): OutcomeKind {
  if (status >= 200 && status < 300) return 'ack';
  if (status === 503) return 'unavailable';
  if (status >= 500) return 'server-error';
  return 'client-error';
}

export function startLoad(options: LoadOptions) {
  const { concurrency = 8, ratePerSecond = 40, timeoutMs = 30_000 } = options;
  const random = seededRandom(options.seed ?? Date.now());
  const run = randomUUID().slice(0, 8);
  let sequence = 0;
  const nextId = () => `${options.idPrefix}-${run}-${++sequence}`;
  const records: RequestRecord[] = [];
  const inFlight = new Set<{ startedAt: number }>();
  let stopping = false;
  let turn = 0;
  // A shared schedule: each request takes the next slot, so the rate holds whatever the latency.
  let nextSlot = Date.now();
  const interval = 1000 / ratePerSecond;

  async function send(orders: SentOrder[], target: string): Promise<RequestRecord> {
    const startedAt = Date.now();
    const batch = orders.length > 1;
    const done = (kind: OutcomeKind, status?: number, detail?: string): RequestRecord => ({
      orders,
      target,
      startedAt,
      endedAt: Date.now(),
      kind,
      status,
      detail,
    });
    try {
      const res = await fetch(`${target}/orders`, {
        method: 'POST',
        headers: {
          Authorization: AUTHORIZATION,
          'Content-Type': 'application/json',
          'Idempotency-Key': randomUUID(),
        },
        body: JSON.stringify(batch ? orders : orders[0]),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      const kind = classifyStatus(res.status);
      // A clean 503 is a problem document, as every error of the contract; anything else (an
      // HTML page, an empty body from a proxy) is a server error.
      const problem = res.headers.get('content-type')?.startsWith('application/problem+json');
      if (kind === 'unavailable' && !problem) {
        return done('server-error', res.status, `503 without a problem body: ${text.slice(0, 60)}`);
      }
      return done(kind, res.status, kind === 'ack' ? undefined : problemTitle(text));
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (e.name === 'TimeoutError')
        return done('timeout', undefined, `no answer in ${timeoutMs} ms`);
      const cause = e.cause;
      return done(
        'conn',
        undefined,
        cause ? `${cause.code ?? ''} ${cause.message ?? ''}`.trim() : e.message,
      );
    }
  }

  async function lane(): Promise<void> {
    while (!stopping) {
      const slot = Math.max(nextSlot, Date.now());
      nextSlot = slot + interval;
      await sleep(slot - Date.now());
      if (stopping) return;
      const targets = options.targets();
      const target = targets[turn++ % Math.max(targets.length, 1)];
      if (!target) {
        await sleep(100);
        continue;
      }
      const token = { startedAt: Date.now() };
      inFlight.add(token);
      records.push(await send(generateRequest(random, nextId), target));
      inFlight.delete(token);
    }
  }

  const lanes = Array.from({ length: concurrency }, () => lane());
  return {
    records,
    /** Whether a request that started before `time` is still waiting for its answer. */
    waitingSince(time: number): boolean {
      return [...inFlight].some((r) => r.startedAt < time);
    },
    /** Stops sending and waits for the requests in flight (each bounded by the timeout). */
    async stop(): Promise<RequestRecord[]> {
      stopping = true;
      await Promise.all(lanes);
      return records;
    },
  };
}

export type Load = ReturnType<typeof startLoad>;

function problemTitle(text: string): string {
  try {
    const body = JSON.parse(text) as { title?: string; detail?: string };
    return body.title ?? text.slice(0, 80);
  } catch {
    return text.slice(0, 80);
  }
}
