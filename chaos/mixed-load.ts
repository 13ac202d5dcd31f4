/*
 * The soak's load: a steady mix of writes (single orders and batches), reads (an order, a
 * customer's orders, summary and items) and cancels of recent orders, at a fixed rate with a
 * bounded number in flight. A cancel that finds its order already processing gets 409 by
 * contract: counted as expected, not as an error.
 */
import { randomUUID } from 'node:crypto';
import { generateRequest, seededRandom, SentOrder } from './order-generator';
import { AUTHORIZATION } from './service';
import { sleep } from './servers';

export type Operation = 'write' | 'read' | 'cancel';

export interface Counts {
  requests: number;
  ok: number;
  /** 409 on a cancel: the order was no longer pending. */
  conflicts: number;
  clientErrors: number;
  serverErrors: number;
  connErrors: number;
}

export const emptyCounts = (): Counts => ({
  requests: 0,
  ok: 0,
  conflicts: 0,
  clientErrors: 0,
  serverErrors: 0,
  connErrors: 0,
});

export function startMixedLoad(options: {
  target: string;
  ratePerSecond: number;
  concurrency?: number;
}) {
  const random = seededRandom(Date.now());
  const run = randomUUID().slice(0, 8);
  let sequence = 0;
  const sent = new Map<string, SentOrder>();
  const acknowledged = new Set<string>();
  /** Recent acknowledged ids, the ones worth reading and cancelling (bounded, so no leak here). */
  const recent: string[] = [];
  let counts = emptyCounts();
  let stopping = false;
  let nextSlot = Date.now();
  const interval = 1000 / options.ratePerSecond;
  const headers = { Authorization: AUTHORIZATION, 'Content-Type': 'application/json' };

  function pickOperation(): Operation {
    const r = random();
    if (r < 0.5 || recent.length === 0) return 'write';
    return r < 0.85 ? 'read' : 'cancel';
  }

  async function request(op: Operation): Promise<void> {
    const base = options.target;
    let res: Response;
    if (op === 'write') {
      const orders = generateRequest(random, () => `soak-${run}-${++sequence}`);
      for (const o of orders) sent.set(o.order_id, o);
      res = await fetch(`${base}/orders`, {
        method: 'POST',
        headers,
        body: JSON.stringify(orders.length > 1 ? orders : orders[0]),
        signal: AbortSignal.timeout(30_000),
      });
      if (res.ok) {
        for (const o of orders) {
          acknowledged.add(o.order_id);
          recent.push(o.order_id);
        }
        recent.splice(0, Math.max(recent.length - 500, 0));
      }
    } else if (op === 'cancel') {
      const id = recent[Math.floor(random() * recent.length)]!;
      res = await fetch(`${base}/orders/${encodeURIComponent(id)}/cancel`, {
        method: 'POST',
        headers,
        signal: AbortSignal.timeout(30_000),
      });
    } else {
      // A customer of an acknowledged order: one without orders would be a 404 by contract.
      const id = recent[Math.floor(random() * recent.length)]!;
      const customer = sent.get(id)!.customer_id;
      const paths = [
        `/orders/${encodeURIComponent(id)}`,
        `/orders?customer_id=${customer}&limit=20`,
        `/customers/${customer}/summary`,
        `/customers/${customer}/items?limit=50`,
      ];
      res = await fetch(`${base}${paths[Math.floor(random() * paths.length)]}`, {
        headers,
        signal: AbortSignal.timeout(30_000),
      });
    }
    await res.arrayBuffer();
    if (res.ok) counts.ok++;
    else if (res.status === 409 && op === 'cancel') counts.conflicts++;
    else if (res.status >= 500) counts.serverErrors++;
    else counts.clientErrors++;
  }

  async function lane(): Promise<void> {
    while (!stopping) {
      const slot = Math.max(nextSlot, Date.now());
      nextSlot = slot + interval;
      await sleep(slot - Date.now());
      if (stopping) return;
      counts.requests++;
      await request(pickOperation()).catch(() => {
        counts.connErrors++;
      });
    }
  }

  const lanes = Array.from({ length: options.concurrency ?? 8 }, () => lane());
  return {
    sent,
    acknowledged,
    /** The counts since the last call. */
    takeCounts(): Counts {
      const taken = counts;
      counts = emptyCounts();
      return taken;
    },
    async stop(): Promise<void> {
      stopping = true;
      await Promise.all(lanes);
    },
  };
}
