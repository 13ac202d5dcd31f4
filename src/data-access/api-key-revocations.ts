import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';

/** How often the subscribed connection is pinged, and how recent an answer must be. */
const HEARTBEAT_MS = 200;
export const REVOCATIONS_CONFIRMED_WITHIN_MS = 750;
/** A ping unanswered this long: the connection is dropped so that it reconnects. */
const STALLED_MS = 3000;

/**
 * Revoked key ids, told to every api pod through Redis pub/sub on a connection of its own (a
 * subscribed connection can do nothing else). Pub/sub loses what it cannot deliver, so the
 * connection is pinged: Redis answers a PING after every message published before it, so an
 * answer proves that no revocation published before the PING was missed. `covers` says
 * whether a key read at `loadedAt` is still known not to have been revoked since.
 */
export function createApiKeyRevocations(opts: {
  publisher: Redis;
  subscriber: Redis;
  prefix: string;
  logger: Logger;
}) {
  const channel = `${opts.prefix}:api-keys:revoked`;
  const handlers: ((id: string) => void)[] = [];
  const { subscriber } = opts;
  /** When the current subscription was confirmed; undefined while there is none. */
  let subscribedAt: number | undefined;
  /** When the latest answered PING was sent: every message published before was heard. */
  let confirmedAt: number | undefined;
  let pingSentAt: number | undefined;

  const lost = () => {
    subscribedAt = undefined;
    confirmedAt = undefined;
    pingSentAt = undefined;
  };
  subscriber.on('close', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => (subscribedAt = Date.now()),
      (err: Error) =>
        opts.logger.debug('api key revocations: subscribe failed', { error: err.message }),
    );
  });
  subscriber.on('message', (from: string, id: string) => {
    if (from === channel) for (const handler of handlers) handler(id);
  });

  function heartbeat(): void {
    if (subscribedAt === undefined || subscriber.status !== 'ready') return;
    if (pingSentAt !== undefined) {
      if (Date.now() - pingSentAt > STALLED_MS) subscriber.disconnect(true);
      return;
    }
    const sent = Date.now();
    pingSentAt = sent;
    subscriber.ping().then(
      () => {
        if (pingSentAt === sent) pingSentAt = undefined;
        if (subscribedAt !== undefined) confirmedAt = Math.max(confirmedAt ?? 0, sent);
      },
      () => undefined,
    );
  }
  const timer = setInterval(heartbeat, HEARTBEAT_MS);
  timer.unref();

  return {
    /**
     * Whether every revocation published after `loadedAt` and more than
     * REVOCATIONS_CONFIRMED_WITHIN_MS ago has been heard (and so its key dropped).
     */
    covers(loadedAt: number, now: number): boolean {
      return (
        subscribedAt !== undefined &&
        subscribedAt <= loadedAt &&
        confirmedAt !== undefined &&
        now - confirmedAt < REVOCATIONS_CONFIRMED_WITHIN_MS
      );
    },
    onRevoked(handler: (id: string) => void): void {
      handlers.push(handler);
    },
    /** Tells every pod; a failure leaves them to the short TTL of what they cannot confirm. */
    async publish(id: string): Promise<void> {
      await opts.publisher.publish(channel, id).catch((err: Error) => {
        opts.logger.warn('api key revocation not published', {
          api_key_id: id,
          error: err.message,
        });
      });
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}

export type ApiKeyRevocations = ReturnType<typeof createApiKeyRevocations>;
