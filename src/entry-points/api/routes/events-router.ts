import { Router, Request, Response } from 'express';
import type { OrderEvent } from '../../../domain/order-event';
import type { StreamEvents, StreamRequest } from '../../../domain/stream-events';

/** A client this far behind is dropped; it resumes with Last-Event-ID when it catches up. */
const MAX_UNSENT_BYTES = 1 << 20;

export interface EventStreamsDeps {
  streamEvents: StreamEvents;
  heartbeatMs: number;
}

/**
 * Server-Sent Events. Headers for proxies: no caching, no buffering (nginx honours
 * X-Accel-Buffering). A comment line every heartbeatMs keeps idle proxies and clients from
 * timing the stream out. `end()` of every open stream is kept for the shutdown.
 */
export function eventsRouter(deps: EventStreamsDeps) {
  const open = new Set<() => void>();
  const router = Router();

  async function stream(req: Request, res: Response, request: StreamRequest): Promise<void> {
    const events = await deps.streamEvents.openStream(req.user!, {
      ...request,
      lastEventId: req.get('last-event-id'),
    });
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-store',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write(': stream open\n\n');
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), deps.heartbeatMs);
    const end = () => {
      clearInterval(heartbeat);
      events.stop();
      open.delete(end);
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    res.on('close', end);
    events
      .start((e: OrderEvent) => {
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        if (res.writableLength > MAX_UNSENT_BYTES) end();
      })
      .catch(end);
  }

  router.get('/events', (req, res) =>
    stream(req, res, { customerId: req.query.customer_id as string | undefined }),
  );
  router.get('/orders/:order_id/events', (req, res) =>
    stream(req, res, { orderId: req.params.order_id! }),
  );

  return {
    router,
    /** Ends every open stream (clients reconnect, to another replica) and refuses new ones. */
    endAll(): void {
      deps.streamEvents.refuseNew();
      for (const end of [...open]) end();
    },
  };
}
