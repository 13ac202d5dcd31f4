import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Harness, orderBody, startHarness, TestUser, waitUntil } from '../helpers/harness';
import { openEventStream, OpenedStream } from '../helpers/event-stream';

/*
 * GET /events and GET /orders/{order_id}/events as Server-Sent Events, against the real app
 * on a real socket: who sees what, the cap per user, resuming, heartbeats and the shutdown.
 */
let h: Harness;
let server: http.Server;
let base: string;
const opened: OpenedStream[] = [];
beforeAll(async () => {
  h = await startHarness(
    { EVENT_STREAM_MAX_PER_USER: '2', EVENT_STREAM_HEARTBEAT_SECONDS: '1' },
    { relayPollMs: 20 },
  );
  await h.startWorkers();
  server = http.createServer(h.services.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of opened) s.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h.stop();
});

async function stream(path: string, user: TestUser, headers: Record<string, string> = {}) {
  const s = await openEventStream(base + path, { Authorization: h.basic(user), ...headers });
  opened.push(s);
  return s;
}
const place = (orderId: string, customerId: string) =>
  h.api
    .post('/orders')
    .set('Authorization', h.basic('manager'))
    .send(orderBody({ order_id: orderId, customer_id: customerId }))
    .expect(201);

describe('GET /events', () => {
  it('streams each status change as id, event and data, with headers for proxies', async () => {
    const s = await stream('/events', 'manager');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(s.headers['cache-control']).toContain('no-cache');
    expect(s.headers['x-accel-buffering']).toBe('no');
    await place('st-1', 'c-alice');
    const messages = await s.waitForMessages(3);
    expect(messages.map((m) => m.event)).toEqual([
      'order.created',
      'order.processing',
      'order.completed',
    ]);
    const rows = await h.services.db('order_events').where('order_id', 'st-1').orderBy('sequence');
    expect(messages.map((m) => m.id)).toEqual(rows.map((r) => r.event_id));
    expect(messages[2]!.data).toMatchObject({
      id: rows[2].event_id,
      type: 'order.completed',
      order_id: 'st-1',
      customer_id: 'c-alice',
      status: 'completed',
      version: 3,
      sequence: Number(rows[2].sequence),
    });
    s.close();
  });

  it("shows a customer its own orders' events only", async () => {
    const alice = await stream('/events', 'alice');
    await place('st-bob', 'c-bob');
    await place('st-alice', 'c-alice');
    await alice.waitForMessages(3);
    // Bob's were published first: had they been sent, they would have come first.
    expect(new Set(alice.messages.map((m) => m.data!.order_id))).toEqual(new Set(['st-alice']));
    alice.close();
  });

  it("refuses a customer another customer's stream: 403, and 404 for another's order", async () => {
    const other = await stream('/events?customer_id=c-bob', 'alice');
    expect(other.status).toBe(403);
    expect(other.headers['content-type']).toMatch(/^application\/problem\+json/);
    const order = await stream('/orders/st-bob/events', 'alice');
    expect(order.status).toBe(404);
  });

  it('lets a manager follow one customer', async () => {
    const s = await stream('/events?customer_id=c-bob', 'manager');
    await place('st-mgr-alice', 'c-alice');
    await place('st-mgr-bob', 'c-bob');
    await s.waitForMessages(3);
    expect(new Set(s.messages.map((m) => m.data!.customer_id))).toEqual(new Set(['c-bob']));
    s.close();
  });
});

describe('GET /orders/{order_id}/events', () => {
  it("streams one order's events, resumable after any of them", async () => {
    await place('st-one', 'c-alice');
    await waitUntil(async () => (await h.services.repositories.events.lag()).count === 0, {
      what: 'the relay to publish',
    });
    const first = await h.services
      .db('order_events')
      .where('order_id', 'st-one')
      .orderBy('sequence')
      .first();
    // Resumed after the first event: the two later ones, from the outbox.
    const s = await stream('/orders/st-one/events', 'alice', { 'Last-Event-ID': first.event_id });
    const messages = await s.waitForMessages(2);
    expect(messages.map((m) => m.event)).toEqual(['order.processing', 'order.completed']);
    s.close();
  });

  it('answers 400 for a Last-Event-ID it does not keep', async () => {
    const s = await stream('/events', 'manager', { 'Last-Event-ID': '01ARZ3NDEKTSV4RRFFQ69G5FAV' });
    expect(s.status).toBe(400);
    expect(JSON.parse(s.body())).toMatchObject({ status: 400 });
    const bad = await stream('/events', 'manager', { 'Last-Event-ID': 'x'.repeat(65) });
    expect(bad.status).toBe(400);
  });
});

describe('limits and lifetime', () => {
  it('sends a heartbeat comment while nothing happens', async () => {
    const s = await stream('/events', 'bob');
    await waitUntil(async () => s.comments.includes('heartbeat'), { what: 'a heartbeat' });
    s.close();
  });

  it('counts its open streams in event_streams_open', async () => {
    const open = async () =>
      (await h.services.metrics.registry.getSingleMetric('event_streams_open')!.get()).values[0]
        ?.value;
    // The earlier tests' streams, closed by their clients, end on the server soon after.
    await waitUntil(async () => (await open()) === 0, { what: 'no stream open' });
    const s = await stream('/events', 'bob');
    expect(await open()).toBe(1);
    s.close();
    await waitUntil(async () => (await open()) === 0, {
      what: 'the stream to be counted out',
    });
  });

  it('caps the streams one user holds open with 429 problem+json', async () => {
    const a = await stream('/events', 'manager');
    const b = await stream('/events', 'manager');
    const c = await stream('/events', 'manager');
    expect([a.status, b.status, c.status]).toEqual([200, 200, 429]);
    expect(c.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(c.headers['retry-after']).toBeDefined();
    expect(JSON.parse(c.body())).toMatchObject({ status: 429 });
    a.close();
    // A closed stream frees its place.
    await waitUntil(async () => {
      const d = await stream('/events', 'manager');
      d.close();
      return d.status === 200;
    });
    b.close();
  });

  it('ends open streams at shutdown and refuses new ones', async () => {
    const s = await stream('/events', 'alice');
    expect(s.status).toBe(200);
    const drain = h.roles.api.drainSteps.find((step) => step.name === 'event streams')!;
    await drain.run();
    await s.ended;
    const late = await stream('/events', 'alice');
    expect(late.status).toBe(503);
  });
});
