import type { Knex } from 'knex';
import type { OrderEvent } from '../domain/order-event';
import type { Db } from './db';
import { eventIdTime } from '../lib/event-id';
import { withTransaction, RetryOptions } from './transaction';
import { isDuplicateKey } from './mysql-errors';

const RELAY = 'order-events';

type EventRow = Omit<OrderEvent, 'id' | 'sequence'> & { event_id: string; sequence: number };

function toEvent(r: EventRow): OrderEvent {
  return {
    id: r.event_id,
    type: r.type,
    sequence: Number(r.sequence),
    order_id: r.order_id,
    customer_id: r.customer_id,
    status: r.status,
    version: r.version,
    created_at: r.created_at,
  };
}

/** Whose events a stream reads. */
export interface EventFilter {
  orderId?: string;
  customerId?: string;
}

/** Thrown when another relay numbered some of the same events first; the batch is read again. */
class NumberingRace extends Error {}

/**
 * The relay's side of the outbox: number events, know how far they are published, purge.
 * Numbering is safe with two relays at once: a row is numbered only while its sequence is
 * NULL, and the unique index refuses a number given twice (a duplicate key, or a Galera
 * certification conflict at COMMIT); the losing transaction changes nothing.
 */
export function createEventOutbox(db: Db, retry: RetryOptions = {}) {
  /** Every event up to here is published. */
  async function publishedSequence(trx: Knex = db): Promise<number> {
    const row = await trx('event_relay').where('name', RELAY).first('published_sequence');
    return Number(row?.published_sequence ?? 0);
  }

  /** Numbered but not yet published (a relay stopped between the two), in order. */
  async function numberedAfter(sequence: number, limit: number): Promise<OrderEvent[]> {
    const rows: EventRow[] = await db('order_events')
      .where('sequence', '>', sequence)
      .orderBy('sequence')
      .limit(limit);
    return rows.map(toEvent);
  }

  /**
   * Numbers up to `limit` of the oldest unnumbered events after the highest number given, in
   * one transaction; returns them in order. An order's events keep their version order even
   * if their writers' clocks disagree: within the batch, each order's slots are refilled in
   * version order.
   */
  async function numberNext(limit: number): Promise<OrderEvent[]> {
    try {
      return await withTransaction(db, (trx) => numberInTransaction(trx, limit), retry);
    } catch (err) {
      if (err instanceof NumberingRace || isDuplicateKey(err)) return [];
      throw err;
    }
  }

  async function numberInTransaction(trx: Knex.Transaction, limit: number): Promise<OrderEvent[]> {
    const rows: EventRow[] = await trx('order_events')
      .whereNull('sequence')
      .orderBy('event_id')
      .limit(limit);
    if (rows.length === 0) return [];
    const top = await trx('order_events').max('sequence as top').first();
    const first = Number(top?.top ?? 0) + 1;
    const ordered = versionOrder(rows);
    ordered.forEach((r, i) => (r.sequence = first + i));
    const cases = ordered.map(() => 'WHEN ? THEN ?').join(' ');
    const changed = await trx('order_events')
      .whereIn(
        'event_id',
        ordered.map((r) => r.event_id),
      )
      .whereNull('sequence')
      .update({
        sequence: trx.raw(
          `CASE event_id ${cases} END`,
          ordered.flatMap((r) => [r.event_id, r.sequence]),
        ),
      });
    if (changed !== ordered.length) throw new NumberingRace('another relay numbered them');
    return ordered.map(toEvent);
  }

  /** Never moves back: a slower relay's late mark changes nothing. */
  async function markPublished(sequence: number): Promise<void> {
    await db('event_relay')
      .where('name', RELAY)
      .update({ published_sequence: db.raw('GREATEST(published_sequence, ?)', [sequence]) });
  }

  /** Events after `sequence` (numbered ones only: published or about to be), in order. */
  async function eventsAfter(
    sequence: number,
    filter: EventFilter,
    limit: number,
  ): Promise<OrderEvent[]> {
    const q = db<EventRow>('order_events').where('sequence', '>', sequence);
    if (filter.orderId !== undefined) q.andWhere('order_id', filter.orderId);
    if (filter.customerId !== undefined) q.andWhere('customer_id', filter.customerId);
    return (await q.orderBy('sequence').limit(limit)).map(toEvent);
  }

  /** The number of an event, if it exists and is numbered. */
  async function sequenceOf(eventId: string): Promise<number | undefined> {
    const row = await db('order_events').where('event_id', eventId).first('sequence');
    return row?.sequence == null ? undefined : Number(row.sequence);
  }

  /** The highest number given (0 before the first). */
  async function lastSequence(): Promise<number> {
    const top = await db('order_events').max('sequence as top').first();
    return Number(top?.top ?? 0);
  }

  /** Unpublished events and when the oldest was written (a stuck relay grows both): one query. */
  async function lag(): Promise<{ count: number; oldest?: Date }> {
    const after =
      "FROM order_events e JOIN event_relay r ON r.name = 'order-events' " +
      'AND e.sequence > r.published_sequence';
    const [rows] = await db.raw(
      'SELECT (SELECT COUNT(*) FROM order_events WHERE sequence IS NULL) AS unnumbered, ' +
        `(SELECT COUNT(*) ${after}) AS numbered, ` +
        '(SELECT MIN(event_id) FROM order_events WHERE sequence IS NULL) AS oldest_unnumbered, ' +
        `(SELECT MIN(e.created_at) ${after}) AS oldest_numbered`,
    );
    const r = rows[0];
    const times = [
      r.oldest_unnumbered ? eventIdTime(r.oldest_unnumbered) : undefined,
      r.oldest_numbered ? new Date(r.oldest_numbered) : undefined,
    ].filter((t): t is Date => t !== undefined);
    return {
      count: Number(r.unnumbered) + Number(r.numbered),
      oldest: times.sort((x, y) => x.getTime() - y.getTime())[0],
    };
  }

  /**
   * Deletes up to `limit` published events written before `before`, lowest numbers first. The
   * highest-numbered event is always kept: numbering continues from it.
   */
  async function purgePublished(before: Date, limit: number): Promise<number> {
    const keep = Math.min(await publishedSequence(), (await lastSequence()) - 1);
    const rows: { event_id: string; created_at: Date }[] = await db('order_events')
      .whereNotNull('sequence')
      .andWhere('sequence', '<=', keep)
      .orderBy('sequence')
      .limit(limit)
      .select('event_id', 'created_at');
    const old = rows.filter((r) => r.created_at < before).map((r) => r.event_id);
    if (old.length === 0) return 0;
    await db('order_events').whereIn('event_id', old).delete();
    return old.length;
  }

  return {
    publishedSequence,
    numberedAfter,
    numberNext,
    markPublished,
    eventsAfter,
    sequenceOf,
    lastSequence,
    lag,
    purgePublished,
  };
}

export type EventOutbox = ReturnType<typeof createEventOutbox>;

/** Each order's events back into the batch's slots of that order, lowest version first. */
function versionOrder(rows: EventRow[]): EventRow[] {
  const byOrder = new Map<string, EventRow[]>();
  for (const r of rows) byOrder.set(r.order_id, [...(byOrder.get(r.order_id) ?? []), r]);
  for (const list of byOrder.values()) list.sort((a, b) => a.version - b.version);
  const next = new Map<string, number>();
  return rows.map((r) => {
    const i = next.get(r.order_id) ?? 0;
    next.set(r.order_id, i + 1);
    return byOrder.get(r.order_id)![i]!;
  });
}
