import { createHash } from 'node:crypto';
import { Random, seededRandom } from '../chaos/order-generator';
import { scaleOf } from '../src/domain/money';
import type {
  Order,
  OrderItem,
  OrderItemInput,
  OrderStatus,
  StatusChange,
} from '../src/domain/order';
import { priceOrders } from '../src/domain/price-orders';

/*
 * The orders the seeder writes, each as the service would have stored it by now: priced by the
 * domain's own pricing, with the versions and status history its transitions leave. Order `i`
 * is a pure function of (seed, i), so the seeder can make it twice (once in id order for the
 * order tables, once in customer order for the read models) without holding a million orders.
 */

export interface GeneratorOptions {
  /** Distinguishes runs: two runs with different seeds never share an order id. */
  seed: string;
  orders: number;
  customers: number;
  /** The seeder's "now"; completed orders spread over the DAYS before it. */
  now: Date;
}

const DAYS = 180;
const SKUS = 300;
const CURRENCIES = ['USD', 'EUR', 'JPY'] as const;
/** Mostly completed; unfinished orders are recent (they would not stay unfinished long). */
const STATUS_MIX: [OrderStatus, number][] = [
  ['completed', 0.9],
  ['cancelled', 0.04],
  ['failed', 0.02],
  ['pending', 0.03],
  ['processing', 0.01],
];

export const customerId = (index: number) => `cust-${String(index).padStart(6, '0')}`;

/** A UUID (v4 layout) from a hash of (seed, i): as random as the service's randomUUID(). */
function orderId(seed: string, i: number): string {
  const h = createHash('sha256').update(`${seed}:${i}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A 32-bit integer hash (murmur3's finaliser): cheap enough to call once per order. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Minor units (exact integers) as the contract writes money: 1234 with 2 digits is "12.34". */
function fromMinor(minor: number, digits: number): string {
  if (digits === 0) return String(minor);
  const text = String(minor).padStart(digits + 1, '0');
  return `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** One price per SKU and currency (a catalogue), with the currency's minor-unit digits. */
function unitPrice(sku: number, currency: (typeof CURRENCIES)[number]): string {
  const cents = 99 + ((sku * 7919) % 19_900);
  if (currency === 'JPY') return String(Math.round(cents * 1.5));
  const amount = currency === 'EUR' ? Math.round(cents * 0.92) : cents;
  return (amount / 100).toFixed(2);
}

function pickStatus(random: Random): OrderStatus {
  let u = random();
  for (const [status, share] of STATUS_MIX) {
    if ((u -= share) < 0) return status;
  }
  return 'completed';
}

/** The history each status leaves behind (see applyStep and completeInTransaction). */
function historyOf(status: OrderStatus, created: Date, moved: Date): StatusChange[] {
  const steps: Record<OrderStatus, OrderStatus[]> = {
    pending: [],
    processing: ['processing'],
    completed: ['processing', 'completed'],
    cancelled: ['cancelled'],
    failed: ['processing', 'failed'],
  };
  return [
    { status: 'pending', at: created },
    ...steps[status].map((s) => ({ status: s, at: moved })),
  ];
}

/**
 * One line as the domain prices it (priceOrders: unit price and line total with the
 * currency's digits), memoised: a catalogue of 300 SKUs has only so many lines. The order's
 * total is then the sum of its lines in exact minor units, as priceOrders adds them.
 */
function createLinePricing() {
  const lines = new Map<string, { item: OrderItem; minor: number; digits: number }>();
  return (currency: string, input: OrderItemInput) => {
    const key = `${currency}|${input.sku}|${input.quantity}`;
    let line = lines.get(key);
    if (!line) {
      const [priced] = priceOrders([{ currency, items: [input] }], false);
      const item = priced!.items[0]!;
      const digits = scaleOf(item.line_total);
      line = { item, minor: Number(item.line_total.replace('.', '')), digits };
      lines.set(key, line);
    }
    return line;
  };
}

export function createOrderGenerator(opts: GeneratorOptions) {
  const span = DAYS * 86_400_000;
  const seedHash = mix32(
    parseInt(createHash('sha256').update(opts.seed).digest('hex').slice(0, 8), 16),
  );
  const randomOf = (i: number) => seededRandom(mix32(seedHash + Math.imul(i, 0x9e3779b9)));
  const priceLine = createLinePricing();
  // Some customers order much more than others: customer k of C draws about k^-0.4.
  const drawCustomer = (random: Random) =>
    Math.min(opts.customers - 1, Math.floor(opts.customers * random() ** 1.6));

  /** The customer (index) of order i: its first draw, cheap to ask for on its own. */
  function customerOf(i: number): number {
    return drawCustomer(randomOf(i));
  }

  /** Order i; `id` when the caller has orderId(i) already (a hash per order adds up). */
  function order(i: number, id = orderId(opts.seed, i)): Order {
    const random = randomOf(i);
    const customer = drawCustomer(random);
    const status = pickStatus(random);
    // A customer's home currency depends on the customer only, the same in every run.
    const home = CURRENCIES[mix32(customer) % 10 < 7 ? 0 : customer % 2 ? 1 : 2]!;
    const currency = random() < 0.9 ? home : CURRENCIES[Math.floor(random() * 3)]!;
    const count = 1 + Math.floor(random() * 6);
    const skus = new Set<number>();
    while (skus.size < count) skus.add(Math.floor(SKUS * random() ** 2));
    const lines = [...skus].map((sku) =>
      priceLine(currency, {
        sku: `SKU-${String(sku).padStart(4, '0')}`,
        name: `Product ${sku}`,
        quantity: 1 + Math.floor(random() ** 3 * 5),
        unit_price: unitPrice(sku, currency),
      }),
    );
    const total = fromMinor(
      lines.reduce((sum, l) => sum + l.minor, 0),
      lines[0]!.digits,
    );
    const unfinished = status === 'pending' || status === 'processing';
    const age = unfinished ? random() * 600_000 : random() * span;
    const created = new Date(opts.now.getTime() - Math.round(age) - 60_000);
    const moved = new Date(created.getTime() + 20 + Math.floor(random() * 3000));
    const history = historyOf(status, created, moved);
    const channel = random();
    return {
      order_id: id,
      customer_id: customerId(customer),
      status,
      currency,
      items: lines.map((l) => l.item),
      total,
      metadata: channel < 0.2 ? { channel: channel < 0.1 ? 'web' : 'app' } : {},
      version: history.length,
      created_at: created,
      updated_at: history.at(-1)!.at,
      completed_at: status === 'completed' ? moved : null,
      status_history: history,
    };
  }

  return { orders: opts.orders, customerOf, order, orderId: (i: number) => orderId(opts.seed, i) };
}

export type OrderGenerator = ReturnType<typeof createOrderGenerator>;
