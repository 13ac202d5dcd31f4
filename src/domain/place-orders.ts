import { createHash, randomUUID } from 'node:crypto';
import { AppError, ErrorCode } from '../lib/app-error';
import type { Logger } from '../lib/logger';
import type { Metrics } from '../lib/metrics';
import type { CustomerRepository } from '../data-access/customer-repository';
import type {
  IdempotencyRecord,
  IdempotencyRepository,
} from '../data-access/idempotency-repository';
import type { IdempotencyLocks } from '../data-access/idempotency-locks';
import type { OrderQueue } from '../data-access/order-queue';
import type { OrderRepository } from '../data-access/order-repository';
import { INITIAL_STATUS, Order, OrderInput } from './order';
import type { Principal, UserRole } from './principal';
import { priceOrders } from './price-orders';

export interface PlaceOrdersRequest {
  inputs: OrderInput[];
  batch: boolean;
  idempotencyKey?: string;
}

export interface PlacedOrders {
  /** In request order. */
  orders: Order[];
  /** Stored by an earlier request with the same Idempotency-Key, not by this one. */
  replayed: boolean;
}

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export function createPlaceOrders(deps: {
  orders: OrderRepository;
  customers: Pick<CustomerRepository, 'ensureListed'>;
  idempotency: IdempotencyRepository;
  locks: IdempotencyLocks;
  queue: Pick<OrderQueue, 'enqueue'>;
  metrics: Metrics;
  logger: Logger;
}) {
  /**
   * Validates, prices and stores all orders in one transaction (all or nothing), then enqueues
   * them. An order whose enqueue fails is still accepted: MySQL is the system of record and
   * the reconciler enqueues it later.
   */
  return async function placeOrders(
    principal: Principal,
    request: PlaceOrdersRequest,
  ): Promise<PlacedOrders> {
    const orders = buildOrders(principal, request);
    if (!request.idempotencyKey) return store(orders);

    const keyHash = sha256(`${principal.username}\n${request.idempotencyKey}`);
    const fingerprint = sha256(canonicalJson(request.inputs) + (request.batch ? '[]' : '{}'));
    const earlier = await replay(keyHash, fingerprint);
    if (earlier) return earlier;
    const lock = await deps.locks.acquire(keyHash);
    if (lock.state === 'held') {
      throw new AppError(
        'idempotency-in-flight',
        'A request with this Idempotency-Key is still being processed; retry later.',
      );
    }
    try {
      // The first request may have finished between the lookup and the lock.
      const finished = await replay(keyHash, fingerprint);
      if (finished) return finished;
      return await store(orders, {
        keyHash,
        fingerprint,
        expiresAt: new Date(Date.now() + IDEMPOTENCY_TTL_MS),
        batch: request.batch,
      });
    } catch (err) {
      // Without the Redis lock (Redis down) a concurrent twin can win the insert: replay it.
      const twin = err instanceof AppError && (await replay(keyHash, fingerprint));
      if (twin) return twin;
      throw err;
    } finally {
      await lock.release();
    }
  };

  async function store(orders: Order[], idempotency?: IdempotencyRecord): Promise<PlacedOrders> {
    await deps.orders.insertOrders(orders, idempotency);
    deps.metrics.ordersCreated.inc(orders.length);
    await deps.customers
      .ensureListed(orders.map((o) => o.customer_id))
      .catch((err: Error) =>
        deps.logger.warn('customer summary not listed yet', { error: err.message }),
      );
    await deps.queue.enqueue(orders.map((o) => o.order_id)).catch((err: Error) => {
      deps.logger.warn('enqueue failed; the reconciler will pick the orders up', {
        orders: orders.length,
        error: err.message,
      });
    });
    return { orders, replayed: false };
  }

  async function replay(keyHash: string, fingerprint: string) {
    const stored = await deps.idempotency.find(keyHash);
    if (!stored) return undefined;
    if (stored.fingerprint !== fingerprint) {
      throw new AppError(
        'idempotency-key-reused',
        'This Idempotency-Key was used with a different request body.',
      );
    }
    deps.metrics.idempotencyReplays.inc();
    return { orders: stored.orders, replayed: true };
  }
}

/**
 * Who may name which customer: a customer only itself (else 403), a manager must name one
 * (else 400). The principal's role picks the rule, so one request breaks at most one.
 */
const CUSTOMER_ID_RULES: Record<
  UserRole,
  {
    code: ErrorCode;
    detail: string;
    message: string;
    broken(input: OrderInput, principal: Principal): boolean;
  }
> = {
  customer: {
    code: 'forbidden',
    detail: 'Customers may only place orders for themselves.',
    message: 'customers may only order for themselves',
    broken: (input, principal) =>
      input.customer_id !== undefined && input.customer_id !== principal.customerId,
  },
  manager: {
    code: 'validation',
    detail: 'customer_id is required.',
    message: 'is required for managers',
    broken: (input) => input.customer_id === undefined,
  },
};

function buildOrders(principal: Principal, request: PlaceOrdersRequest): Order[] {
  const rule = CUSTOMER_ID_RULES[principal.role];
  const errors = request.inputs.flatMap((input, i) =>
    rule.broken(input, principal)
      ? [{ path: `${request.batch ? `/${i}` : ''}/customer_id`, message: rule.message }]
      : [],
  );
  if (errors.length > 0) throw new AppError(rule.code, rule.detail, { errors });

  const ids = request.inputs.map((input) => input.order_id ?? `ord_${randomUUID()}`);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0) {
    throw new AppError(
      'duplicate-order',
      `order_id repeats inside the batch: ${[...new Set(repeated)].join(', ')}. Nothing was stored.`,
    );
  }

  const priced = priceOrders(request.inputs, request.batch);
  const now = new Date();
  return request.inputs.map((input, i) => ({
    order_id: ids[i]!,
    customer_id: input.customer_id ?? principal.customerId!,
    status: INITIAL_STATUS,
    currency: input.currency,
    items: priced[i]!.items,
    total: priced[i]!.total,
    metadata: input.metadata ?? {},
    version: 1,
    created_at: now,
    updated_at: now,
    completed_at: null,
    status_history: [{ status: INITIAL_STATUS, at: now }],
  }));
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with sorted object keys: the same request with reordered keys has one fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
