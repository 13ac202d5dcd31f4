import type { Knex } from 'knex';
import { AppError } from '../lib/app-error';
import { formatMoney, minorUnits } from '../domain/money';
import {
  FINISHED_STATUSES,
  Order,
  OrderStatus,
  OrderToProcess,
  Transition,
  UNFINISHED_STATUSES,
} from '../domain/order';
import type { Db } from './db';
import { updateCustomerReadModels } from './customer-read-models';
import { withTransaction, RetryOptions } from './transaction';
import { isDuplicateKey } from './mysql-errors';
import { unavailableDependency } from './dependency-errors';
import { IdempotencyRecord, insertIdempotencyRecord } from './idempotency-repository';
import { createBatcher, Outcome } from '../lib/batcher';
import { insertRows } from './insert-rows';
import { createEventWrites } from './event-writes';

/** One request's write: its orders and, with an Idempotency-Key, its replay record. */
interface InsertUnit {
  orders: Order[];
  idempotency?: IdempotencyRecord;
}

/**
 * Group commit on the write path: transactions in flight at once per process (the rest wait
 * and share the next one), and the most orders one may carry.
 */
const GROUP_COMMIT_CONCURRENCY = 2;
const GROUP_COMMIT_MAX_ORDERS = 1000;

async function settle(work: Promise<void>): Promise<Outcome<void>> {
  return work.then(
    () => ({ ok: true as const, value: undefined }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export interface OrderPage {
  customerId?: string;
  status?: OrderStatus;
  limit: number;
  after?: { createdAt: Date; orderId: string };
}

/** How an order step is guarded and recorded. */
export interface StepGuard {
  /** The update applies only at this version (If-Match, or the version the caller read). */
  expectedVersion?: number;
  /** The order as already read by the caller: its items, customer and currency never change. */
  loaded?: OrderToProcess;
  /** Who asked for the step, for the history row. */
  actor?: string;
}

/** Failed orders by when they failed (their last change), and optionally whose. */
export interface FailedFilter {
  failedSince: Date;
  failedBefore: Date;
  customerId?: string;
  /** Keyset cursor: orders created after this one. */
  after?: { createdAt: Date; orderId: string };
}

export interface RetriedPage {
  /** The orders this page moved back to pending. */
  orderIds: string[];
  /** Matching orders read; fewer than asked for means none are left. */
  scanned: number;
  next?: { createdAt: Date; orderId: string };
}

type OrderRow = {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  total: string;
  metadata: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
};

interface ItemRow {
  order_id: string;
  line_no: number;
  sku: string;
  name: string;
  quantity: number;
  unit_price: string;
  line_total: string;
}

export function createOrderRepository(db: Db, retry: RetryOptions = {}) {
  const events = createEventWrites();

  /** Rows of every unit in one transaction: multi-row INSERTs per table. */
  async function writeUnits(trx: Knex.Transaction, units: InsertUnit[]): Promise<void> {
    const orders = units.flatMap((u) => u.orders);
    await insertRows(trx, 'orders', orders.map(toRow));
    await insertRows(
      trx,
      'order_items',
      orders.flatMap((o) =>
        o.items.map((item, line) => ({ order_id: o.order_id, line_no: line, ...item })),
      ),
    );
    await insertRows(
      trx,
      'order_status_history',
      orders.map((o) => ({ order_id: o.order_id, version: 1, status: o.status, at: o.created_at })),
    );
    await events.insertEvents(
      trx,
      orders.map((o) => ({ ...o, version: 1, at: o.created_at })),
      true,
    );
    for (const u of units) {
      if (u.idempotency) await insertIdempotencyRecord(trx, u.idempotency, u.orders);
    }
  }

  /** One request's orders on their own: all or nothing, a clash named. */
  async function insertUnit(unit: InsertUnit): Promise<void> {
    try {
      await withTransaction(db, (trx) => writeUnits(trx, [unit]), retry);
    } catch (err) {
      // The primary key is the duplicate check; only then is it worth asking which ids clash.
      if (!isDuplicateKey(err)) throw err;
      const ids = unit.orders.map((o) => o.order_id);
      const taken: { order_id: string; customer_id: string }[] = await db('orders')
        .whereIn('order_id', ids)
        .select('order_id', 'customer_id');
      // Order ids are global: an id taken by another customer is not named, or a customer
      // could probe which ids exist for others.
      const customerOf = new Map(unit.orders.map((o) => [o.order_id, o.customer_id]));
      throw duplicate(
        taken.filter((t) => customerOf.get(t.order_id) === t.customer_id).map((t) => t.order_id),
      );
    }
  }

  /**
   * Group commit: the requests waiting together share one transaction. A duplicate in one of
   * them rolls the group back and each runs again on its own, so it fails only itself.
   */
  async function insertGroup(units: InsertUnit[]): Promise<Outcome<void>[]> {
    if (units.length > 1) {
      try {
        await withTransaction(db, (trx) => writeUnits(trx, units), retry);
        return units.map(() => ({ ok: true, value: undefined }));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return Promise.all(units.map((u) => settle(insertUnit(u))));
  }

  const insertGrouped = createBatcher(insertGroup, {
    concurrency: GROUP_COMMIT_CONCURRENCY,
    maxSize: GROUP_COMMIT_MAX_ORDERS,
    sizeOf: (u) => u.orders.length,
  });

  /**
   * Stores orders, items, history and the idempotency record in one transaction, shared with
   * concurrent requests (group commit) but all or nothing for each. No read-model row is
   * touched here: on Galera, placing orders for a customer whose summary a completion on
   * another node is updating made both conflict (a 23-order POST failed after 10 retries).
   */
  function insertOrders(orders: Order[], idempotency?: IdempotencyRecord): Promise<void> {
    return insertGrouped({ orders, idempotency });
  }

  async function findOrder(orderId: string, trx: Knex = db): Promise<Order | undefined> {
    const row = await trx<OrderRow>('orders').where('order_id', orderId).first();
    if (!row) return undefined;
    return (await hydrate(trx, [row]))[0];
  }

  /** The orders with these ids that exist, without their history, in no particular order. */
  async function findOrders(orderIds: string[]): Promise<OrderToProcess[]> {
    if (orderIds.length === 0) return [];
    const rows = await db<OrderRow>('orders').whereIn('order_id', orderIds);
    return toOrders(rows, await itemsOf(db, rows));
  }

  async function listOrders(page: OrderPage): Promise<Order[]> {
    const q = db<OrderRow>('orders')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'order_id', order: 'desc' },
      ])
      .limit(page.limit);
    if (page.customerId) q.where('customer_id', page.customerId);
    if (page.status) q.where('status', page.status);
    if (page.after) {
      const { createdAt, orderId } = page.after;
      q.where((w) =>
        w
          .where('created_at', '<', createdAt)
          .orWhere((x) => x.where('created_at', createdAt).andWhere('order_id', '<', orderId)),
      );
    }
    return hydrate(db, await q);
  }

  /**
   * One guarded step inside a transaction: the order moves from `from` to `to` only if it is
   * still in `from` (and at `expectedVersion` when given), so a redelivered job or a racing
   * cancel changes nothing; false then. Completing also updates the customer read models.
   */
  async function applyStep(
    trx: Knex.Transaction,
    orderId: string,
    { from, to }: Transition,
    { expectedVersion, loaded, actor }: StepGuard,
  ): Promise<boolean> {
    const now = new Date();
    const q = trx('orders').where({ order_id: orderId, status: from });
    if (expectedVersion !== undefined) q.andWhere('version', expectedVersion);
    const changed = await q.update({
      status: to,
      version: trx.raw('version + 1'),
      updated_at: now,
      ...(to === 'completed' ? { completed_at: now } : {}),
    });
    if (changed === 0) return false;
    await trx.raw(
      'INSERT INTO order_status_history (order_id, version, status, at, actor) ' +
        'SELECT order_id, version, ?, ?, ? FROM orders WHERE order_id = ?',
      [to, now, actorColumn(actor), orderId],
    );
    await events.insertStepEvent(trx, orderId, to, now);
    if (to === 'completed') {
      await updateCustomerReadModels(trx, [loaded ?? (await findOrder(orderId, trx))!]);
    }
    return true;
  }

  async function transition(
    orderId: string,
    step: Transition,
    guard: StepGuard = {},
  ): Promise<boolean> {
    return withTransaction(db, (trx) => applyStep(trx, orderId, step, guard), retry);
  }

  /**
   * failed → pending for up to `limit` failed orders matching the filter, oldest created
   * first: one transaction, the rows locked in id order and moved by one UPDATE, a history row
   * each naming the actor. The next page starts after the returned cursor, so pages never
   * overlap, and an order that fails again meanwhile is not taken twice.
   */
  async function retryFailedPage(
    filter: FailedFilter,
    limit: number,
    actor: string,
  ): Promise<RetriedPage> {
    return withTransaction(
      db,
      async (trx) => {
        const candidates: { order_id: string; created_at: Date }[] = await whereFailed(
          trx('orders'),
          filter,
        )
          .select('order_id', 'created_at')
          .orderBy([{ column: 'created_at' }, { column: 'order_id' }])
          .limit(limit);
        const last = candidates.at(-1);
        if (!last) return { orderIds: [], scanned: 0 };
        // Locked by primary key, not by the range read above: no gap locks on the status
        // index holding up the worker and cancels while the page is written.
        const rows: { order_id: string; version: number }[] = await trx('orders')
          .select('order_id', 'version')
          .whereIn(
            'order_id',
            candidates.map((c) => c.order_id),
          )
          .andWhere('status', 'failed')
          .orderBy('order_id')
          .forUpdate();
        if (rows.length > 0) {
          const now = new Date();
          await trx('orders')
            .whereIn(
              'order_id',
              rows.map((r) => r.order_id),
            )
            .andWhere('status', 'failed')
            .update({ status: 'pending', version: trx.raw('version + 1'), updated_at: now });
          await insertRows(
            trx,
            'order_status_history',
            rows.map((r) => ({
              order_id: r.order_id,
              version: r.version + 1,
              status: 'pending',
              at: now,
              actor: actorColumn(actor),
            })),
          );
          // No event: a retry has none (eventTypeOf).
        }
        return {
          orderIds: rows.map((r) => r.order_id),
          scanned: candidates.length,
          next: { createdAt: last.created_at, orderId: last.order_id },
        };
      },
      retry,
    );
  }

  /** Whether a failed order matches the filter (after its cursor). */
  async function anyFailed(filter: FailedFilter): Promise<boolean> {
    return (await whereFailed(db('orders'), filter).first('order_id')) !== undefined;
  }

  /**
   * pending → processing → completed for every order of the group still pending, in one
   * transaction: the rows locked in id order, one UPDATE, both history rows of each, the read
   * models aggregated. Says, per order given, whether this call moved it (an id given twice is
   * moved once).
   */
  async function completeGroup(orders: OrderToProcess[]): Promise<Outcome<boolean>[]> {
    let moved: Set<string>;
    try {
      moved = await withTransaction(db, (trx) => completeInTransaction(trx, orders), retry);
    } catch (err) {
      // An outage fails them all (each job waits for it); anything else is tried order by
      // order, so one bad order fails only itself.
      if (orders.length === 1 || unavailableDependency(err)) throw err;
      return Promise.all(
        orders.map((o) =>
          completeGroup([o]).then(
            ([outcome]) => outcome!,
            (error: unknown) => ({ ok: false as const, error }),
          ),
        ),
      );
    }
    const claimed = new Set<string>();
    return orders.map((o) => {
      const mine = moved.has(o.order_id) && !claimed.has(o.order_id);
      claimed.add(o.order_id);
      return { ok: true, value: mine };
    });
  }

  async function completeInTransaction(trx: Knex.Transaction, orders: OrderToProcess[]) {
    const ids = [...new Set(orders.map((o) => o.order_id))].sort();
    const rows: { order_id: string; version: number }[] = await trx('orders')
      .select('order_id', 'version')
      .whereIn('order_id', ids)
      .andWhere('status', 'pending')
      .orderBy('order_id')
      .forUpdate();
    if (rows.length === 0) return new Set<string>();
    const now = new Date();
    const eligible = rows.map((r) => r.order_id);
    await trx('orders')
      .whereIn('order_id', eligible)
      .andWhere('status', 'pending')
      .update({
        status: 'completed',
        version: trx.raw('version + 2'),
        updated_at: now,
        completed_at: now,
      });
    const steps = rows.flatMap((r) => [
      { order_id: r.order_id, version: r.version + 1, status: 'processing' as const, at: now },
      { order_id: r.order_id, version: r.version + 2, status: 'completed' as const, at: now },
    ]);
    await insertRows(trx, 'order_status_history', steps);
    const byId = new Map(orders.map((o) => [o.order_id, o]));
    await events.insertEvents(
      trx,
      steps.map((step) => ({ ...step, customer_id: byId.get(step.order_id)!.customer_id })),
    );
    await updateCustomerReadModels(
      trx,
      eligible.map((id) => byId.get(id)!),
    );
    return new Set(eligible);
  }

  const completeGrouped = createBatcher(completeGroup, {
    concurrency: GROUP_COMMIT_CONCURRENCY,
    maxSize: GROUP_COMMIT_MAX_ORDERS,
  });

  /**
   * A pending order straight to completed (no fulfilment step between), committed together
   * with the other orders the worker completes at that moment (group commit). False when it
   * was not pending any more (a redelivered job, a cancel that won).
   */
  function completePending(order: OrderToProcess): Promise<boolean> {
    return completeGrouped(order);
  }

  /** Orders still pending or processing whose last change is older than `before`. */
  async function findUnfinished(before: Date, limit: number): Promise<string[]> {
    return db('orders')
      .whereIn('status', UNFINISHED_STATUSES)
      .andWhere('updated_at', '<', before)
      .orderBy('updated_at')
      .limit(limit)
      .pluck('order_id');
  }

  /** When the oldest order still pending was created; undefined when none is. */
  async function oldestPendingCreatedAt(): Promise<Date | undefined> {
    const row = await db('orders').where('status', 'pending').min('created_at as oldest').first();
    return row?.oldest ? new Date(row.oldest) : undefined;
  }

  /** Deletes up to `limit` finished orders created before `before`; aggregates are kept. */
  async function purgeFinished(before: Date, limit: number): Promise<number> {
    return withTransaction(
      db,
      async (trx) => {
        const ids: string[] = await trx('orders')
          .whereIn('status', FINISHED_STATUSES)
          .andWhere('created_at', '<', before)
          .limit(limit)
          .pluck('order_id');
        if (ids.length === 0) return 0;
        await trx('order_items').whereIn('order_id', ids).delete();
        await trx('order_status_history').whereIn('order_id', ids).delete();
        return trx('orders').whereIn('order_id', ids).delete();
      },
      retry,
    );
  }

  return {
    insertOrders,
    findOrder,
    findOrders,
    listOrders,
    transition,
    retryFailedPage,
    anyFailed,
    completePending,
    findUnfinished,
    oldestPendingCreatedAt,
    purgeFinished,
  };
}

export type OrderRepository = ReturnType<typeof createOrderRepository>;

function duplicate(ids: string[]): AppError {
  const named =
    ids.slice(0, 10).join(', ') + (ids.length > 10 ? ` and ${ids.length - 10} more` : '');
  const detail =
    ids.length > 0
      ? `Order id already exists: ${named}. Nothing was stored.`
      : 'An order id in the request is already taken. Nothing was stored.';
  return new AppError('duplicate-order', detail);
}

function whereFailed(q: Knex.QueryBuilder, filter: FailedFilter): Knex.QueryBuilder {
  q.where('status', 'failed')
    .andWhere('updated_at', '>=', filter.failedSince)
    .andWhere('updated_at', '<', filter.failedBefore);
  if (filter.customerId !== undefined) q.andWhere('customer_id', filter.customerId);
  if (filter.after) {
    const { createdAt, orderId } = filter.after;
    q.andWhere((w) =>
      w
        .where('created_at', '>', createdAt)
        .orWhere((x) => x.where('created_at', createdAt).andWhere('order_id', '>', orderId)),
    );
  }
  return q;
}

/** An external token's `sub` has no length limit; the column keeps the first 255 characters. */
function actorColumn(actor: string | undefined): string | null {
  return actor === undefined ? null : actor.slice(0, 255);
}

function toRow(o: Order): OrderRow {
  return {
    order_id: o.order_id,
    customer_id: o.customer_id,
    status: o.status,
    currency: o.currency,
    total: o.total,
    metadata: Object.keys(o.metadata).length > 0 ? JSON.stringify(o.metadata) : null,
    version: o.version,
    created_at: o.created_at,
    updated_at: o.updated_at,
    completed_at: o.completed_at,
  };
}

/** Rows to orders: items and history for the whole page in two queries. */
async function hydrate(db: Knex, rows: OrderRow[]): Promise<Order[]> {
  if (rows.length === 0) return [];
  const [items, history] = await Promise.all([
    itemsOf(db, rows),
    db('order_status_history')
      .whereIn(
        'order_id',
        rows.map((r) => r.order_id),
      )
      .orderBy(['order_id', 'version']),
  ]);
  const historyOf = groupBy(history, (h) => h.order_id);
  return toOrders(rows, items).map((o) => ({
    ...o,
    status_history: (historyOf.get(o.order_id) ?? []).map((h) => ({
      status: h.status,
      at: h.at,
      ...(typeof h.actor === 'string' ? { actor: h.actor } : {}),
    })),
  }));
}

/** The items of these orders' rows, by order id. */
async function itemsOf(db: Knex, rows: OrderRow[]) {
  if (rows.length === 0) return new Map<string, ItemRow[]>();
  const items: ItemRow[] = await db('order_items')
    .whereIn(
      'order_id',
      rows.map((r) => r.order_id),
    )
    .orderBy(['order_id', 'line_no']);
  return groupBy(items, (i) => i.order_id);
}

function toOrders(rows: OrderRow[], itemsOf: Map<string, ItemRow[]>): OrderToProcess[] {
  return rows.map((r) => {
    const digits = minorUnits(r.currency) ?? 0;
    return {
      ...r,
      total: formatMoney(r.total, digits),
      metadata: r.metadata ? JSON.parse(r.metadata) : {},
      items: (itemsOf.get(r.order_id) ?? []).map((i) => ({
        sku: i.sku,
        name: i.name,
        quantity: i.quantity,
        unit_price: formatMoney(i.unit_price, digits),
        line_total: formatMoney(i.line_total, digits),
      })),
    };
  });
}

function groupBy<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const group = groups.get(k);
    if (group) group.push(row);
    else groups.set(k, [row]);
  }
  return groups;
}
