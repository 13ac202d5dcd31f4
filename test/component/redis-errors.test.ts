import { Redis } from 'ioredis';
import { isOutageError, redisRetryDelay } from '../../src/data-access/redis';
import { REDIS_URL, waitUntil } from '../helpers/harness';
import { freePort } from '../helpers/processes';

const clients: Redis[] = [];
afterAll(() => clients.forEach((client) => client.disconnect()));

function connect(url: string): Redis {
  // disconnectTimeout: a client between attempts would otherwise keep a 2 s timer for its
  // already-closed socket.
  const client = new Redis(url, { retryStrategy: redisRetryDelay, disconnectTimeout: 10 });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

describe('Redis errors', () => {
  it('counts a failed command on a ready connection as an error of its own, to be logged', async () => {
    const client = connect(REDIS_URL);
    await waitUntil(async () => client.status === 'ready', { what: 'the connection' });
    const err = await client.eval('return redis.call("nope")', 0).catch((e: Error) => e);
    expect(isOutageError(err as Error, client)).toBe(false);
  });

  it('counts any error while the connection is down as part of the outage already logged', async () => {
    const client = connect(`redis://127.0.0.1:${await freePort()}`);
    await waitUntil(async () => client.status === 'reconnecting', { what: 'a failed attempt' });
    expect(isOutageError(new Error('WRONGPASS invalid password'), client)).toBe(true);
  });

  it('waits 500 ms before the first retry, doubling up to 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map(redisRetryDelay)).toEqual([
      500, 1000, 2000, 4000, 5000, 5000, 5000,
    ]);
  });
});
