import type { EventOutbox } from '../data-access/event-outbox';
import type { OrderEvent } from './order-event';

/** Events per relay round: one numbering transaction, one job, one pub/sub message. */
export const RELAY_BATCH = 500;

/**
 * One round of the outbox relay: first what an earlier relay numbered but did not publish
 * (it stopped in between), else the next unnumbered events, numbered now; published, then
 * marked. A crash anywhere repeats the round's publish, which the job ids de-duplicate.
 * Returns how many events were published.
 */
export function createRelayEvents(deps: {
  outbox: EventOutbox;
  publish: (events: OrderEvent[]) => Promise<void>;
  batch?: number;
}) {
  const batch = deps.batch ?? RELAY_BATCH;
  return async function relayEvents(): Promise<number> {
    const published = await deps.outbox.publishedSequence();
    let events = await deps.outbox.numberedAfter(published, batch);
    if (events.length === 0) events = await deps.outbox.numberNext(batch);
    if (events.length === 0) return 0;
    await deps.publish(events);
    await deps.outbox.markPublished(events.at(-1)!.sequence);
    return events.length;
  };
}

export type RelayEvents = ReturnType<typeof createRelayEvents>;
