/*
 * The orders the load client sends: a few customers (so the read models see contention), three
 * currencies with different minor units, a fixed catalogue (one name per SKU), ids of our own
 * so the client knows exactly which orders were acknowledged.
 */

export interface SentItem {
  sku: string;
  name: string;
  quantity: number;
  unit_price: string;
}

export interface SentOrder {
  order_id: string;
  customer_id: string;
  currency: string;
  items: SentItem[];
}

export const CUSTOMERS = ['c-1', 'c-2', 'c-3', 'c-4'];
/** ISO 4217 minor units: the API refuses prices with more decimals than these. */
export const CURRENCIES: Record<string, number> = { USD: 2, JPY: 0, KWD: 3 };
const CATALOGUE = [
  { sku: 'TEA-GREEN', name: 'Green tea' },
  { sku: 'TEA-BLACK', name: 'Black tea' },
  { sku: 'CUP', name: 'Cup' },
  { sku: 'POT', name: 'Tea pot' },
  { sku: 'HONEY', name: 'Honey' },
];

export type Random = () => number;

/** A small seeded generator (mulberry32), so a run can be repeated. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: Random, list: readonly T[]): T =>
  list[Math.floor(random() * list.length)]!;
const between = (random: Random, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1));

/** A price with exactly the currency's decimals, e.g. "12.34", "1500", "3.250". */
export function price(random: Random, digits: number): string {
  const minor = between(random, 1, 50_000);
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

export function generateOrder(random: Random, orderId: string): SentOrder {
  const currency = pick(random, Object.keys(CURRENCIES));
  const lines = between(random, 1, 3);
  const items = Array.from({ length: lines }, () => {
    const product = pick(random, CATALOGUE);
    return {
      ...product,
      quantity: between(random, 1, 5),
      unit_price: price(random, CURRENCIES[currency]!),
    };
  });
  return { order_id: orderId, customer_id: pick(random, CUSTOMERS), currency, items };
}

/** One request's orders: a single order (60%) or a batch of 2..5. */
export function generateRequest(random: Random, nextId: () => string): SentOrder[] {
  const count = random() < 0.6 ? 1 : between(random, 2, 5);
  return Array.from({ length: count }, () => generateOrder(random, nextId()));
}
