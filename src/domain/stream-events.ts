import { AppError } from '../lib/app-error';
import { EVENT_ID } from '../lib/event-id';
import type { EventFeed } from '../data-access/event-feed';
import type { EventFilter, EventOutbox } from '../data-access/event-outbox';
import type { OrderRepository } from '../data-access/order-repository';
import type { OrderEvent } from './order-event';
import type { Principal } from './principal';
import { findVisibleOrder } from './read-orders';

const PAGE = 500;

export interface StreamRequest {
  /** GET /orders/{order_id}/events */
  orderId?: string;
  /** GET /events?customer_id= (managers; a customer's own id is implied) */
  customerId?: string;
  lastEventId?: string;
}

export interface EventStream {
  /** Sends the missed events, then every new one, until stopped; rejects if the replay fails. */
  start(send: (event: OrderEvent) => void): Promise<void>;
  stop(): void;
}

/**
 * Live event streams: the missed events from the outbox (by sequence, after Last-Event-ID),
 * then those the relay publishes, heard through Redis pub/sub so every api replica gets
 * every event. Subscribed before the outbox is read, so nothing falls between the two; an
 * event seen twice (replayed and heard, or published twice) is sent once.
 */
export function createStreamEvents(deps: {
  outbox: EventOutbox;
  feed: EventFeed;
  orders: OrderRepository;
  maxPerPrincipal: number;
}) {
  const open = new Map<string, number>();
  let closing = false;

  async function scope(principal: Principal, req: StreamRequest): Promise<EventFilter> {
    if (req.orderId !== undefined) {
      await findVisibleOrder(deps.orders, principal, req.orderId);
      return { orderId: req.orderId };
    }
    if (principal.role === 'manager') return { customerId: req.customerId };
    if (req.customerId !== undefined && req.customerId !== principal.customerId) {
      throw new AppError('forbidden', "A customer may only follow its own orders' events.");
    }
    return { customerId: principal.customerId ?? '' };
  }

  async function resumeAfter(lastEventId: string | undefined): Promise<number> {
    // From what is published: events numbered but not yet published are replayed from MySQL.
    if (lastEventId === undefined) return deps.outbox.publishedSequence();
    const sequence = EVENT_ID.test(lastEventId)
      ? await deps.outbox.sequenceOf(lastEventId)
      : undefined;
    if (sequence === undefined) {
      throw new AppError(
        'validation',
        'Last-Event-ID names no event this service still keeps; reconnect without it.',
        { errors: [{ path: 'Last-Event-ID', message: 'unknown event id' }] },
      );
    }
    return sequence;
  }

  function claim(principal: Principal): () => void {
    const count = open.get(principal.username) ?? 0;
    if (count >= deps.maxPerPrincipal) {
      throw new AppError(
        'rate-limited',
        `At most ${deps.maxPerPrincipal} event streams per user are open at once.`,
        { headers: { 'Retry-After': '5' } },
      );
    }
    open.set(principal.username, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (open.get(principal.username) ?? 1) - 1;
      if (left > 0) open.set(principal.username, left);
      else open.delete(principal.username);
    };
  }

  async function openStream(principal: Principal, req: StreamRequest): Promise<EventStream> {
    if (closing) throw new AppError('overloaded', 'Shutting down; reconnect to another replica.');
    const filter = await scope(principal, req);
    const release = claim(principal);
    const matches = (e: OrderEvent) =>
      (filter.orderId === undefined || e.order_id === filter.orderId) &&
      (filter.customerId === undefined || e.customer_id === filter.customerId);
    let send: ((event: OrderEvent) => void) | undefined;
    let live = false;
    let sent = 0;
    const early: OrderEvent[] = [];
    const deliver = (e: OrderEvent) => {
      if (e.sequence <= sent || !matches(e)) return;
      sent = e.sequence;
      send!(e);
    };
    let unlisten = () => {};
    try {
      unlisten = await deps.feed.listen((e) => (live ? deliver(e) : early.push(e)));
      sent = await resumeAfter(req.lastEventId);
      const first = await deps.outbox.eventsAfter(sent, filter, PAGE);
      return {
        async start(sender) {
          send = sender;
          // Missed events first, page by page, then what arrived meanwhile.
          let page = first;
          for (;;) {
            page.forEach(deliver);
            if (page.length < PAGE) break;
            page = await deps.outbox.eventsAfter(sent, filter, PAGE);
          }
          early.splice(0).forEach(deliver);
          live = true;
        },
        stop() {
          unlisten();
          release();
        },
      };
    } catch (err) {
      unlisten();
      release();
      throw err;
    }
  }

  return {
    openStream,
    /** Streams open in this process, for the `event_streams_open` gauge. */
    openCount(): number {
      let n = 0;
      for (const count of open.values()) n += count;
      return n;
    },
    /** New streams are refused from now on (the caller ends the open ones). */
    refuseNew(): void {
      closing = true;
    },
  };
}

export type StreamEvents = ReturnType<typeof createStreamEvents>;
