import type { Redis } from 'ioredis';
import type { Logger } from '../lib/logger';

/**
 * Revoked key ids, told to every api pod through Redis pub/sub on a connection of its own
 * (a subscribed connection can do nothing else). `trustedSince` is when the subscription was
 * last (re)established, undefined while it is down: only while it holds can a cached key be
 * trusted for long, since a message published meanwhile is lost, not queued.
 */
export function createApiKeyRevocations(opts: {
  publisher: Redis;
  subscriber: Redis;
  prefix: string;
  logger: Logger;
}) {
  const channel = `${opts.prefix}:api-keys:revoked`;
  const handlers: ((id: string) => void)[] = [];
  let trustedSince: number | undefined;
  const { subscriber } = opts;

  const lost = () => {
    trustedSince = undefined;
  };
  subscriber.on('close', lost);
  subscriber.on('end', lost);
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(
      () => (trustedSince = Date.now()),
      (err: Error) =>
        opts.logger.debug('api key revocations: subscribe failed', { error: err.message }),
    );
  });
  subscriber.on('message', (from: string, id: string) => {
    if (from === channel) for (const handler of handlers) handler(id);
  });

  return {
    trustedSince: () => trustedSince,
    onRevoked(handler: (id: string) => void): void {
      handlers.push(handler);
    },
    /** Tells every pod; a failure leaves them to their cache's TTL (logged). */
    async publish(id: string): Promise<void> {
      await opts.publisher.publish(channel, id).catch((err: Error) => {
        opts.logger.warn(
          'api key revocation not published; other pods drop the key within their cache TTL',
          {
            api_key_id: id,
            error: err.message,
          },
        );
      });
    },
  };
}

export type ApiKeyRevocations = ReturnType<typeof createApiKeyRevocations>;
