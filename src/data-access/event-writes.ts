import type { Knex } from 'knex';
import type { OrderStatus } from '../domain/order';
import { eventTypeOf } from '../domain/order-event';
import { createEventIds } from '../lib/event-id';
import { insertRows } from './insert-rows';

/** A status change whose event goes into the outbox. */
export interface StatusChange {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  version: number;
  at: Date;
}

/**
 * Outbox rows, written inside the caller's transaction wherever a history row is: a change
 * commits with its event or not at all. Multi-row INSERTs, no reads.
 */
export function createEventWrites(nextEventId = createEventIds()) {
  /** The events of these changes in one multi-row INSERT per chunk (`created` for new orders). */
  async function insertEvents(
    trx: Knex.Transaction,
    changes: StatusChange[],
    created = false,
  ): Promise<void> {
    const rows = [];
    for (const c of changes) {
      const type = created ? 'order.created' : eventTypeOf(c.status);
      if (!type) continue;
      rows.push({
        event_id: nextEventId(),
        type,
        order_id: c.order_id,
        customer_id: c.customer_id,
        status: c.status,
        version: c.version,
        created_at: c.at,
      });
    }
    await insertRows(trx, 'order_events', rows);
  }

  /** The event of one order's step, its customer and version read by the INSERT itself. */
  async function insertStepEvent(
    trx: Knex.Transaction,
    orderId: string,
    to: OrderStatus,
    at: Date,
  ): Promise<void> {
    const type = eventTypeOf(to);
    if (!type) return;
    await trx.raw(
      'INSERT INTO order_events (event_id, type, order_id, customer_id, status, version, created_at) ' +
        'SELECT ?, ?, order_id, customer_id, status, version, ? FROM orders WHERE order_id = ?',
      [nextEventId(), type, at, orderId],
    );
  }

  return { insertEvents, insertStepEvent };
}

export type EventWrites = ReturnType<typeof createEventWrites>;
