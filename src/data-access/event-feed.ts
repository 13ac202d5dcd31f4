import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';
import type { OrderEvent } from '../domain/order-event';
import { eventsChannel } from './event-publisher';

export type EventListener = (event: OrderEvent) => void;

/**
 * The relay's pub/sub channel, heard once per api process (one subscriber connection, made
 * when the first stream opens) and fanned out to the streams of this process.
 */
export function createEventFeed(redis: Redis, prefix: string, logger: Logger) {
  const listeners = new Set<EventListener>();
  const channel = eventsChannel(prefix);
  let subscriber: Promise<Redis> | undefined;

  function subscribe(): Promise<Redis> {
    subscriber ??= (async () => {
      // Blocking-style connection: it waits out an outage instead of failing commands.
      const sub = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      sub.on('error', () => undefined); // told by the producer's reconnect line
      sub.on('message', (_channel: string, message: string) => {
        // A relay round's events, in sequence order.
        let events: OrderEvent[];
        try {
          events = JSON.parse(message) as OrderEvent[];
          if (!Array.isArray(events)) throw new Error('not a list');
        } catch {
          logger.warn('unreadable event on the events channel');
          return;
        }
        for (const event of events) for (const listener of listeners) listener(event);
      });
      await sub.subscribe(channel);
      return sub;
    })();
    subscriber.catch(() => (subscriber = undefined));
    return subscriber;
  }

  return {
    /** Calls `listener` for every event published from now on; resolves once subscribed. */
    async listen(listener: EventListener): Promise<() => void> {
      listeners.add(listener);
      try {
        await subscribe();
      } catch (err) {
        listeners.delete(listener);
        throw err;
      }
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      listeners.clear();
      const sub = await subscriber?.catch(() => undefined);
      sub?.disconnect();
    },
  };
}

export type EventFeed = ReturnType<typeof createEventFeed>;
