import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createDb } from '../../src/data-access/db';
import { EVENTS_QUEUE } from '../../src/data-access/event-publisher';
import { orderBody, REDIS_URL, waitUntil } from '../helpers/harness';
import { ADMIN_AUTH, useRoleProcesses } from '../helpers/role-processes';

/*
 * The outbox is in MySQL: an api process SIGKILLed the moment its orders are committed (its
 * responses perhaps never sent) loses none of their events; a worker started later publishes
 * every one, once.
 */
jest.setTimeout(90_000);

const processes = useRoleProcesses('events_death', { MIGRATE_ON_START: 'true' });
const { prefix } = processes;

it('publishes the events of an api process killed right after COMMIT', async () => {
  const api = await processes.start('api');
  const db = createDb(processes.databaseUrl());
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(EVENTS_QUEUE, { connection: redis, prefix });
  try {
    const posts = Array.from({ length: 200 }, (_, i) =>
      fetch(`${api.base}/orders`, {
        method: 'POST',
        headers: { Authorization: ADMIN_AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify(orderBody({ order_id: `killed-${i}` })),
      }).then(
        (res) => res.status,
        () => 'cut off',
      ),
    );
    // The first commit is the signal: kill while the rest are in flight.
    await waitUntil(async () => Number((await db('orders').count({ n: '*' }))[0]!.n) > 0, {
      intervalMs: 5,
      what: 'a first commit',
    });
    await api.stop('SIGKILL');
    const statuses = await Promise.all(posts);
    expect(statuses).toContain('cut off');

    const stored: string[] = await db('orders').pluck('order_id');
    expect(stored.length).toBeGreaterThan(0);
    const events = await db('order_events');
    // Every committed order has its one order.created; no event names an order not stored.
    expect(events.map((e) => e.order_id).sort()).toEqual([...stored].sort());
    expect(events.every((e) => e.type === 'order.created' && e.sequence === null)).toBe(true);

    // A worker started afterwards publishes them all, each once (and those of its own steps:
    // it completes the orders too: three events each).
    await processes.start('worker');
    const published = async () => {
      const [all, relay] = await Promise.all([db('order_events'), db('event_relay').first()]);
      return (
        Number(relay.published_sequence) === all.length && all.length === 3 * stored.length && all
      );
    };
    const all = await waitUntil(published, {
      timeoutMs: 20_000,
      what: 'the relay to publish the events',
    });
    const jobs = await queue.getJobs(['waiting', 'completed']);
    const carried = jobs.flatMap((j) => (j.data.events as { id: string }[]).map((e) => e.id));
    expect(carried.sort()).toEqual(all.map((e) => e.event_id).sort());
    expect(all.map((e) => e.event_id)).toEqual(
      expect.arrayContaining(events.map((e) => e.event_id)),
    );
  } finally {
    await queue.close();
    await redis.quit();
    await db.destroy();
  }
});
