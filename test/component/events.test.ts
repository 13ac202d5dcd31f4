import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  Harness,
  orderBody,
  processAlone,
  REDIS_URL,
  startHarness,
  waitUntil,
} from '../helpers/harness';
import { transition } from '../../src/domain/order';
import { createEventOutbox } from '../../src/data-access/event-outbox';
import { createRelayEvents } from '../../src/domain/relay-events';
import { EVENTS_QUEUE } from '../../src/data-access/event-publisher';
import { createEventRelay } from '../../src/entry-points/worker/event-relay';

/*
 * Every status change writes its event in the transaction of the change (the outbox); the
 * relay numbers the events and publishes each once to the order-events queue.
 */
let h: Harness;
let redis: Redis;
let queue: Queue;
beforeAll(async () => {
  h = await startHarness();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(EVENTS_QUEUE, { connection: redis, prefix: h.prefix });
});
afterAll(async () => {
  await queue.close();
  await h.stop();
  await redis.quit();
});

const post = (body: object) =>
  h.api.post('/orders').set('Authorization', h.basic('manager')).send(body);
const eventsOf = async (ids: string | string[]) =>
  (await h.services
    .db('order_events')
    .whereIn('order_id', [ids].flat())
    .orderBy(['order_id', 'event_id'])) as {
    event_id: string;
    type: string;
    order_id: string;
    customer_id: string;
    status: string;
    version: number;
    sequence: number | null;
  }[];
const summary = async (id: string) =>
  (await eventsOf(id)).map((e) => `${e.type} ${e.status} v${e.version}`);
const relay = () => h.roles.worker.useCases.relayEvents;

describe('events recorded with the change', () => {
  it('writes order.created, order.processing and order.completed with the order versions', async () => {
    await post(orderBody({ order_id: 'ev-done', customer_id: 'c-ev' })).expect(201);
    expect(await processAlone(h, 'ev-done')).toBe('completed');
    const events = await eventsOf('ev-done');
    expect(await summary('ev-done')).toEqual([
      'order.created pending v1',
      'order.processing processing v2',
      'order.completed completed v3',
    ]);
    expect(events.every((e) => e.customer_id === 'c-ev' && /^[0-9A-Z]{26}$/.test(e.event_id))).toBe(
      true,
    );
    expect(new Set(events.map((e) => e.event_id)).size).toBe(3);
  });

  it('writes order.cancelled for a cancel', async () => {
    await post(orderBody({ order_id: 'ev-cancel' })).expect(201);
    await h.api
      .post('/orders/ev-cancel/cancel')
      .set('Authorization', h.basic('manager'))
      .expect(200);
    expect(await summary('ev-cancel')).toEqual([
      'order.created pending v1',
      'order.cancelled cancelled v2',
    ]);
  });

  it('writes order.failed, nothing for the retry, then the new steps at their versions', async () => {
    const { orders } = h.services.repositories;
    await post(orderBody({ order_id: 'ev-fail' })).expect(201);
    await orders.transition('ev-fail', transition('pending', 'processing'));
    await orders.transition('ev-fail', transition('processing', 'failed'));
    await h.api.post('/orders/ev-fail/retry').set('Authorization', h.basic('manager')).expect(200);
    await orders.transition('ev-fail', transition('pending', 'processing'));
    expect(await summary('ev-fail')).toEqual([
      'order.created pending v1',
      'order.processing processing v2',
      'order.failed failed v3',
      'order.processing processing v5',
    ]);
  });

  it('writes nothing for a step that did not apply', async () => {
    await post(orderBody({ order_id: 'ev-stale' })).expect(201);
    await h.api
      .post('/orders/ev-stale/cancel')
      .set('Authorization', h.basic('manager'))
      .set('If-Match', '"7"')
      .expect(412);
    expect(await summary('ev-stale')).toEqual(['order.created pending v1']);
  });

  it('leaves no event behind a rolled-back batch', async () => {
    await post(orderBody({ order_id: 'ev-taken' })).expect(201);
    const batch = ['ev-batch-a', 'ev-taken', 'ev-batch-b'].map((id) => orderBody({ order_id: id }));
    await post(batch).expect(409);
    expect(await eventsOf(['ev-batch-a', 'ev-batch-b'])).toEqual([]);
    expect(await summary('ev-taken')).toEqual(['order.created pending v1']);
  });

  it('writes events only for the requests a group commit stored, one each', async () => {
    await post(orderBody({ order_id: 'ev-gc-taken' })).expect(201);
    const ids = Array.from({ length: 20 }, (_, i) => `ev-gc-${i}`);
    const answers = await Promise.all([
      ...ids.map((id) => post(orderBody({ order_id: id }))),
      post([orderBody({ order_id: 'ev-gc-lost' }), orderBody({ order_id: 'ev-gc-taken' })]),
    ]);
    expect(answers.map((a) => a.status)).toEqual([...ids.map(() => 201), 409]);
    const events = await eventsOf([...ids, 'ev-gc-lost', 'ev-gc-taken']);
    expect(events.map((e) => e.order_id).sort()).toEqual([...ids, 'ev-gc-taken'].sort());
    expect(events.every((e) => e.type === 'order.created' && e.version === 1)).toBe(true);
  });

  it('writes two events per order for a completion group commit', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `ev-cg-${i}`);
    await post(ids.map((id) => orderBody({ order_id: id }))).expect(201);
    const counts = await h.roles.worker.useCases.processOrders(ids, false);
    expect(counts.completed).toBe(10);
    for (const id of ids) {
      expect(await summary(id)).toEqual([
        'order.created pending v1',
        'order.processing processing v2',
        'order.completed completed v3',
      ]);
    }
  });
});

describe('the relay', () => {
  it('numbers every event once and publishes every one, even when relays run at once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => `ev-relay-${i}`);
    await post(ids.map((id) => orderBody({ order_id: id }))).expect(201);
    // Two relays of their own (as on two worker pods) and the worker's, each in small rounds.
    const { db } = h.services;
    const publish = h.roles.worker.publisher.publish;
    const relays = [
      createRelayEvents({ outbox: createEventOutbox(db), publish, batch: 7 }),
      createRelayEvents({ outbox: createEventOutbox(db), publish, batch: 7 }),
      relay(),
    ];
    const drain = async (run: () => Promise<number>) => {
      while ((await run()) > 0);
    };
    await Promise.all(relays.map(drain));
    // Run again: nothing left.
    expect(await relay()()).toBe(0);

    const all = await h.services.db('order_events').orderBy('sequence');
    expect(all.every((e) => e.sequence !== null)).toBe(true);
    expect(all.map((e) => Number(e.sequence))).toEqual(all.map((_, i) => i + 1));
    expect(await h.services.repositories.events.publishedSequence()).toBe(all.length);
    // One job per round, named by its sequence range; together they carry every event. Two
    // relays at once (a lost lease) may both re-publish a round neither marked, in ranges of
    // their own, so an event may ride in two jobs: consumers de-duplicate by event id. One
    // relay re-publishing its own round makes no second job (the next test).
    const jobs = await queue.getJobs(['waiting']);
    const carried = jobs.flatMap((j) => j.data.events as { id: string; sequence: number }[]);
    expect(new Set(carried.map((e) => e.id))).toEqual(new Set(all.map((e) => e.event_id)));
    expect(jobs.length).toBeLessThan(all.length);
    for (const job of jobs) {
      const seqs = (job.data.events as { sequence: number }[]).map((e) => e.sequence);
      expect(job.id).toBe(`events-${seqs[0]}-${seqs.at(-1)}`);
    }
    const last = carried.find((e) => e.id === all.at(-1).event_id)!;
    expect(last).toMatchObject({ type: all.at(-1).type, sequence: all.length, version: 1 });
  });

  it('publishes again what a relay numbered but did not mark, without a second job', async () => {
    await post(orderBody({ order_id: 'ev-crash' })).expect(201);
    const { events } = h.services.repositories;
    // A relay that stopped after numbering and publishing, before marking.
    const numbered = await events.numberNext(100);
    expect(numbered.map((e) => e.order_id)).toEqual(['ev-crash']);
    await h.roles.worker.publisher.publish(numbered);
    const before = await queue.getJobCountByTypes('waiting');
    expect(await relay()()).toBe(1);
    expect(await queue.getJobCountByTypes('waiting')).toBe(before);
    expect(await events.publishedSequence()).toBe(numbered[0]!.sequence);
  });

  it('keeps an order’s events in version order even when their writers’ clocks disagree', async () => {
    // Written by hand: ids (time order) say completed before created.
    await h.services.db('order_events').insert([
      {
        event_id: '00000000020000000000000000',
        type: 'order.created',
        order_id: 'ev-skew',
        customer_id: 'c',
        status: 'pending',
        version: 1,
        created_at: new Date(),
      },
      {
        event_id: '00000000010000000000000000',
        type: 'order.completed',
        order_id: 'ev-skew',
        customer_id: 'c',
        status: 'completed',
        version: 3,
        created_at: new Date(),
      },
    ]);
    await relay()();
    const rows = await h.services
      .db('order_events')
      .where('order_id', 'ev-skew')
      .orderBy('sequence');
    expect(rows.map((r) => r.version)).toEqual([1, 3]);
  });

  it('reports the unpublished events as lag until the relay runs', async () => {
    await post(orderBody({ order_id: 'ev-lag' })).expect(201);
    const { events } = h.services.repositories;
    const lag = await events.lag();
    expect(lag.count).toBe(1);
    expect(Date.now() - lag.oldest!.getTime()).toBeLessThan(60_000);
    await relay()();
    expect(await events.lag()).toEqual({ count: 0, oldest: undefined });
  });

  it('purges published events past retention and keeps the newest', async () => {
    const { events } = h.services.repositories;
    const last = await events.lastSequence();
    expect(await events.purgePublished(new Date(Date.now() + 60_000), 10_000)).toBe(last - 1);
    const left = await h.services.db('order_events').whereNotNull('sequence');
    expect(left.map((r) => Number(r.sequence))).toEqual([last]);
    // Numbering goes on from the one kept.
    await post(orderBody({ order_id: 'ev-after-purge' })).expect(201);
    await relay()();
    expect(await events.lastSequence()).toBe(last + 1);
  });
});

describe('the relay lease', () => {
  it('runs one relay at a time across replicas and hands over when the holder stops', async () => {
    const rounds = [0, 0];
    const relays = rounds.map((_, i) =>
      createEventRelay({
        redis: h.services.redis,
        prefix: `${h.prefix}-lease`,
        relayEvents: async () => {
          rounds[i]!++;
          return 0;
        },
        logger: h.services.logger,
        pollMs: 10,
      }),
    );
    relays.forEach((r) => r.start());
    await waitUntil(async () => rounds[0]! + rounds[1]! > 20, { what: 'relay rounds' });
    const holder = rounds[0]! > 0 ? 0 : 1;
    expect(rounds[1 - holder]).toBe(0);
    await relays[holder]!.close();
    await waitUntil(async () => rounds[1 - holder]! > 0, { what: 'the other relay to take over' });
    await relays[1 - holder]!.close();
  });
});
