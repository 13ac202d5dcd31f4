import { randomBytes } from 'node:crypto';
import { Harness, orderBody, startHarness, waitUntil } from '../helpers/harness';
import { startReceiver, verifySignature } from '../helpers/webhook-receiver';
import type { OrderEvent, EventType } from '../../src/domain/order-event';
import { deliveryIdOf } from '../../src/domain/dispatch-event';
import { generateEndpointId, generateSecret } from '../../src/domain/webhook';

// Receivers listen on 127.0.0.1: reaching them needs the allow-list, which `strict` lacks.
const ATTEMPT_TIMEOUT_MS = 700;
const SECRET_KEY = 'webhook-secret-key-of-at-least-32-bytes';
let h: Harness;
let strict: Harness;
const receivers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  h = await startHarness(
    {
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      WEBHOOK_SECRET_KEY: SECRET_KEY,
    },
    {
      webhookRetry: { baseMs: 40, capMs: 160, maxAgeMs: 1500 },
      webhookTimeoutMs: ATTEMPT_TIMEOUT_MS,
    },
  );
  // The same database without the allow-list: endpoints registered while it permitted them.
  strict = await startHarness(
    {
      DATABASE_URL: h.services.config.databaseUrl,
      REDIS_PREFIX: `${h.prefix}-strict`,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_SECRET_KEY: SECRET_KEY,
    },
    { webhookRetry: { baseMs: 40, capMs: 40, maxAgeMs: 40 }, relay: false },
  );
  await Promise.all([h.startWorkers(), strict.startWorkers()]);
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await strict.stop();
  await h.stop();
});

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

/** A customer of its own per test, so each test's endpoints see only its events. */
const newCustomer = () => `c-wh-${randomBytes(4).toString('hex')}`;

async function register(
  url: string,
  customerId: string,
  events: EventType[] = ['order.created'],
  on: Harness = h,
) {
  const res = await on.api
    .post('/webhooks')
    .set('Authorization', on.basic('manager'))
    .send({ url, events, customer_id: customerId });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; status: string };
}

/**
 * An order placed through the API and an event of it: its order.created as the outbox wrote
 * it (the relay dispatches that one too, which the delivery id makes one delivery), or one of
 * another type made up for the test.
 */
async function orderEvent(customerId: string, type: EventType = 'order.created') {
  const res = await h.api
    .post('/orders')
    .set('Authorization', h.basic('manager'))
    .send(orderBody({ customer_id: customerId }))
    .expect(201);
  const orderId = res.body.order_id as string;
  if (type === 'order.created') {
    const row = await h.services.db('order_events').where({ order_id: orderId, type }).first();
    return {
      id: row.event_id,
      type,
      sequence: Number(row.sequence ?? 0),
      order_id: orderId,
      customer_id: customerId,
      status: row.status,
      version: row.version,
      created_at: row.created_at,
    } satisfies OrderEvent;
  }
  const event: OrderEvent = {
    id: `evt_${randomBytes(6).toString('hex')}`,
    type,
    order_id: orderId,
    customer_id: customerId,
    sequence: 0,
    status: 'pending',
    version: 1,
    created_at: new Date(),
  };
  return event;
}

const dispatch = (event: OrderEvent, on: Harness = h) =>
  on.roles.worker.useCases.dispatchEvents([event]);

const deliveries = async (endpointId: string) => {
  const res = await h.api
    .get(`/webhooks/${endpointId}/deliveries`)
    .set('Authorization', h.basic('manager'))
    .expect(200);
  return res.body.data as {
    id: string;
    status: string;
    event_id: string;
    attempts: {
      attempt: number;
      status_code: number | null;
      error: string | null;
      latency_ms: number;
    }[];
  }[];
};

const waitForDelivery = (endpointId: string, status: string, what = `delivery ${status}`) =>
  waitUntil(
    async () => {
      const [d] = await deliveries(endpointId);
      return d?.status === status ? d : undefined;
    },
    { what },
  );

describe('registering webhook endpoints', () => {
  it('returns the secret once, and never again from GET or in the logs', async () => {
    const r = await receiver();
    const customer = newCustomer();
    const created = await register(r.url, customer, ['order.created', 'order.completed']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ url: r.url, customer_id: customer, status: 'active' });

    const one = await h.api.get(`/webhooks/${created.id}`).set('Authorization', h.basic('manager'));
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('secret');
    const list = await h.api.get('/webhooks').set('Authorization', h.basic('manager'));
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(created.id);
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(h.logs.join('')).not.toContain(created.secret);
  });

  it('stores the secret encrypted under WEBHOOK_SECRET_KEY, bound to its endpoint', async () => {
    const created = await register('http://127.0.0.1:9/x', newCustomer());
    const rotated = await h.api
      .post(`/webhooks/${created.id}/rotate-secret`)
      .set('Authorization', h.basic('manager'))
      .expect(200);
    const row = await h.services.db('webhook_endpoints').where('endpoint_id', created.id).first();
    expect(row.secret).toMatch(/^enc1:/);
    expect(row.previous_secret).toMatch(/^enc1:/);
    expect(JSON.stringify(row)).not.toContain(created.secret.slice(6));
    expect(JSON.stringify(row)).not.toContain(rotated.body.secret.slice(6));
    const stored = await h.services.repositories.webhooks.findEndpoint(created.id);
    expect(stored).toMatchObject({ secret: rotated.body.secret, previous_secret: created.secret });
  });

  it('is for managers only: a customer gets 403, no credentials 401', async () => {
    const body = { url: 'https://hooks.example.com/x', events: ['order.created'] };
    await h.api.post('/webhooks').set('Authorization', h.basic('alice')).send(body).expect(403);
    await h.api.get('/webhooks').set('Authorization', h.basic('alice')).expect(403);
    await h.api.get('/webhooks/we_x').set('Authorization', h.basic('alice')).expect(403);
    await h.api.delete('/webhooks/we_x').set('Authorization', h.basic('alice')).expect(403);
    await h.api.get('/webhooks').expect(401);
  });

  it('answers 400 problems for unknown event types, a missing url and extra fields', async () => {
    for (const body of [
      { url: 'https://hooks.example.com/x', events: ['order.shipped'] },
      { events: ['order.created'] },
      { url: 'https://hooks.example.com/x', events: [] },
      { url: 'https://hooks.example.com/x', events: ['order.created'], secret: 'mine' },
    ]) {
      const res = await h.api.post('/webhooks').set('Authorization', h.basic('manager')).send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('deletes an endpoint: 204, then 404', async () => {
    const created = await register('http://127.0.0.1:9/x', newCustomer());
    await h.api
      .delete(`/webhooks/${created.id}`)
      .set('Authorization', h.basic('manager'))
      .expect(204);
    await h.api.get(`/webhooks/${created.id}`).set('Authorization', h.basic('manager')).expect(404);
    await h.api
      .delete(`/webhooks/${created.id}`)
      .set('Authorization', h.basic('manager'))
      .expect(404);
  });

  it.each([
    ['loopback', 'https://127.0.0.1/hook'],
    ['metadata', 'https://169.254.169.254/latest/meta-data/'],
    ['private', 'https://10.0.0.1/hook'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hook'],
    ['localhost by DNS (resolved offline from /etc/hosts)', 'https://localhost/hook'],
  ])('refuses a %s URL without the allow-list', async (_what, url) => {
    const res = await strict.api
      .post('/webhooks')
      .set('Authorization', strict.basic('manager'))
      .send({ url, events: ['order.created'] });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/url', message: expect.stringMatching(/loopback, private, link-local/) },
    ]);
  });
});

describe('delivering events', () => {
  it('POSTs the event signed with the secret and carrying its id', async () => {
    let verified: boolean | undefined;
    let secret = '';
    const r = await receiver((req, res) => {
      verified = verifySignature(
        req.headers['order-service-signature'] as string,
        req.body,
        secret,
      );
      res.statusCode = verified ? 200 : 400;
      res.end();
    });
    const customer = newCustomer();
    const endpoint = await register(r.url, customer);
    secret = endpoint.secret;
    const event = await orderEvent(customer);

    await dispatch(event);
    const delivery = await waitForDelivery(endpoint.id, 'succeeded');

    expect(verified).toBe(true);
    const [req] = r.received;
    expect(req!.headers['order-service-event-id']).toBe(event.id);
    expect(req!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req!.body);
    expect(body).toMatchObject({ id: event.id, type: 'order.created' });
    expect(body.created_at).toBe((event.created_at as Date).toISOString());
    expect(body.data.order).toMatchObject({ order_id: event.order_id, customer_id: customer });
    expect(delivery.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, error: null }),
    ]);
    const attempts = await h.services.metrics.webhookAttempts.get();
    expect(attempts.values.find((v) => v.labels.outcome === 'success')?.value).toBeGreaterThan(0);
  });

  it('sends only the event types and the customer an endpoint asked for', async () => {
    const r = await receiver();
    const customer = newCustomer();
    const completedOnly = await register(r.url, customer, ['order.completed']);
    const otherCustomer = await register(r.url, newCustomer());
    const ids = await dispatch(await orderEvent(customer));
    expect(ids).toEqual([]);
    expect(await deliveries(completedOnly.id)).toEqual([]);
    expect(await deliveries(otherCustomer.id)).toEqual([]);
  });

  it("sends every customer's events to an endpoint without a customer filter", async () => {
    const r = await receiver();
    const res = await h.api
      .post('/webhooks')
      .set('Authorization', h.basic('manager'))
      .send({ url: r.url, events: ['order.cancelled'] })
      .expect(201);
    expect(res.body.customer_id).toBeNull();
    const events = [await orderEvent(newCustomer(), 'order.cancelled')];
    events.push(await orderEvent(newCustomer(), 'order.cancelled'));
    for (const event of events) await dispatch(event);
    await waitUntil(async () => r.received.length === 2, { what: 'both deliveries' });
    expect(r.received.map((q) => q.headers['order-service-event-id']).sort()).toEqual(
      events.map((e) => e.id).sort(),
    );
    await h.api.delete(`/webhooks/${res.body.id}`).set('Authorization', h.basic('manager'));
  });

  it('delivers once per (event, endpoint) when the relay dispatches an event twice', async () => {
    const r = await receiver();
    const customer = newCustomer();
    const endpoint = await register(r.url, customer);
    const event = await orderEvent(customer);

    // Twice at once (BullMQ's job id), then twice after the delivery (the delivery row).
    const [[first]] = await Promise.all([dispatch(event), dispatch(event)]);
    expect(first).toBe(deliveryIdOf(event.id, endpoint.id));
    await waitForDelivery(endpoint.id, 'succeeded');
    await dispatch(event);
    await dispatch(event);

    // Nothing more can arrive once the second dispatch's job (if any) is done.
    const queue = h.services.webhooks.queue.queue;
    await waitUntil(
      async () => (await queue.getJobCounts('waiting', 'active', 'delayed')).active === 0,
    );
    expect(r.received).toHaveLength(1);
    expect(await h.services.db('webhook_deliveries').where('event_id', event.id)).toHaveLength(1);
  });

  it('retries a failing endpoint with backoff and records every attempt', async () => {
    const r = await receiver((_req, res, n) => {
      res.statusCode = n <= 2 ? 503 : 200;
      res.end(n <= 2 ? 'busy, try later' : 'ok');
    });
    const customer = newCustomer();
    const endpoint = await register(r.url, customer);
    await dispatch(await orderEvent(customer));

    const delivery = await waitForDelivery(endpoint.id, 'succeeded');
    expect(delivery.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 503],
      [2, 503],
      [3, 200],
    ]);
    expect(delivery.attempts[0]).toMatchObject({
      error: 'HTTP 503',
      response_excerpt: 'busy, try later',
    });
    expect(r.received[2]!.at - r.received[1]!.at).toBeGreaterThanOrEqual(40);
    expect(new Set(r.received.map((q) => q.headers['order-service-event-id'])).size).toBe(1);
  });

  it('gives up after the retry period and marks the endpoint failing', async () => {
    const r = await receiver((_req, res) => {
      res.statusCode = 500;
      res.end();
    });
    const customer = newCustomer();
    const endpoint = await register(r.url, customer);
    const failedBefore = (await h.services.metrics.webhookDeliveriesFailed.get()).values[0]!.value;
    await dispatch(await orderEvent(customer));

    const delivery = await waitForDelivery(endpoint.id, 'failed');
    expect(delivery.attempts.length).toBeGreaterThan(3);
    const res = await h.api
      .get(`/webhooks/${endpoint.id}`)
      .set('Authorization', h.basic('manager'));
    expect(res.body).toMatchObject({ status: 'failing', failing_since: expect.any(String) });
    expect((await h.services.metrics.webhookDeliveriesFailed.get()).values[0]!.value).toBe(
      failedBefore + 1,
    );
  });

  it('times out a hanging endpoint while another endpoint gets its delivery at once', async () => {
    const hanging = await receiver(() => undefined);
    const fast = await receiver();
    const customer = newCustomer();
    const slow = await register(hanging.url, customer);
    await register(fast.url, customer);

    await dispatch(await orderEvent(customer));
    await waitUntil(async () => hanging.received.length > 0 && fast.received.length > 0, {
      what: 'both endpoints called',
    });
    expect(Math.abs(fast.received[0]!.at - hanging.received[0]!.at)).toBeLessThan(
      ATTEMPT_TIMEOUT_MS,
    );

    const failed = await waitUntil(async () => (await deliveries(slow.id))[0]?.attempts[0], {
      what: 'the hanging attempt to time out',
    });
    expect(failed).toMatchObject({
      status_code: null,
      error: `no response within ${ATTEMPT_TIMEOUT_MS} ms`,
    });
    expect(failed.latency_ms).toBeGreaterThanOrEqual(ATTEMPT_TIMEOUT_MS - 5);
    // Orders keep flowing meanwhile: a new order completes while the endpoint still hangs.
    const order = await orderEvent(newCustomer());
    await waitUntil(
      async () =>
        (await h.services.db('orders').where('order_id', order.order_id).first())?.status ===
        'completed',
      { what: 'the order to complete' },
    );
  });

  it('does not follow a redirect to a loopback URL: the attempt fails', async () => {
    const canary = await receiver();
    const redirecting = await receiver((_req, res) => {
      res.writeHead(307, { Location: `http://127.0.0.1:${canary.port}/internal` });
      res.end();
    });
    const customer = newCustomer();
    const endpoint = await register(redirecting.url, customer);
    await dispatch(await orderEvent(customer));

    const attempt = await waitUntil(async () => (await deliveries(endpoint.id))[0]?.attempts[0], {
      what: 'the first attempt',
    });
    expect(attempt).toMatchObject({ status_code: 307 });
    expect(attempt.error).toMatch(/^redirect to http:\/\/127\.0\.0\.1:\d+\/internal not followed$/);
    expect(canary.received).toHaveLength(0);
  });

  it('refuses at delivery an endpoint whose address is no longer allowed', async () => {
    const r = await receiver();
    const customer = newCustomer();
    // Registered while the allow-list permitted 127.0.0.1 (harness h), delivered by `strict`;
    // an event type of its own, so h's relay delivers nothing to it.
    const endpoint = await register(r.url, customer, ['order.cancelled']);
    await dispatch(await orderEvent(customer, 'order.cancelled'), strict);

    const attempt = await waitUntil(async () => (await deliveries(endpoint.id))[0]?.attempts[0], {
      what: 'the refused attempt',
    });
    expect(attempt).toMatchObject({ status_code: null, latency_ms: 0 });
    expect(attempt.error).toMatch(/^refused: the URL resolves to 127\.0\.0\.1/);
    expect(r.received).toHaveLength(0);
  });

  it('re-resolves the host name at delivery (DNS rebinding): localhost is refused', async () => {
    const r = await receiver();
    const customer = newCustomer();
    // As if registered while `localhost` resolved to a public address.
    const now = new Date();
    const endpointId = generateEndpointId();
    await strict.services.repositories.webhooks.insertEndpoint({
      endpoint_id: endpointId,
      url: `http://localhost:${r.port}/hook`,
      // An event type of its own, so h's relay delivers nothing to it.
      events: ['order.cancelled'],
      customer_id: customer,
      secret: generateSecret(),
      previous_secret: null,
      previous_secret_expires_at: null,
      status: 'active',
      failing_since: null,
      created_at: now,
      updated_at: now,
    });
    await dispatch(await orderEvent(customer, 'order.cancelled'), strict);
    const attempt = await waitUntil(async () => (await deliveries(endpointId))[0]?.attempts[0], {
      what: 'the refused attempt',
    });
    expect(attempt.error).toMatch(/^refused: the URL resolves to/);
    expect(r.received).toHaveLength(0);
  });
});

describe('from the outbox to the endpoint', () => {
  it('delivers an order placed through the API once per event, by way of the relay', async () => {
    const r = await receiver();
    const customer = newCustomer();
    const endpoint = await register(r.url, customer, ['order.created', 'order.completed']);
    const placed = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ customer_id: customer }))
      .expect(201);
    await waitUntil(async () => r.received.length >= 2, { what: 'two deliveries' });
    const events = await h.services
      .db('order_events')
      .where('order_id', placed.body.order_id)
      .whereIn('type', ['order.created', 'order.completed']);
    const bodies = r.received.map((q) => JSON.parse(q.body));
    expect(bodies.map((b) => [b.id, b.type]).sort()).toEqual(
      events.map((e) => [e.event_id, e.type]).sort(),
    );
    for (const q of r.received) {
      expect(
        verifySignature(q.headers['order-service-signature'] as string, q.body, endpoint.secret),
      ).toBe(true);
      expect(q.headers['order-service-event-id']).toBe(JSON.parse(q.body).id);
    }
    expect(bodies.every((b) => b.data.order.order_id === placed.body.order_id)).toBe(true);
  });
});

describe('when dispatching fails', () => {
  it('dispatches a relay round again after MySQL failed it, and delivers once', async () => {
    const r = await receiver();
    const customer = newCustomer();
    await register(r.url, customer);
    const { db } = h.services;
    // The endpoints table away: the round's dispatch fails as in a MySQL outage.
    await db.raw('RENAME TABLE webhook_endpoints TO webhook_endpoints_away');
    try {
      await h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .send(orderBody({ customer_id: customer }))
        .expect(201);
      // The round's job failed: retried later (delayed), or, without retries, failed for good.
      const queue = h.roles.worker.publisher.queue;
      await waitUntil(
        async () => {
          const counts = await queue.getJobCounts('delayed', 'failed');
          return counts.delayed! + counts.failed! > 0;
        },
        { what: 'the failed dispatch' },
      );
    } finally {
      await db.raw('RENAME TABLE webhook_endpoints_away TO webhook_endpoints');
    }
    await waitUntil(async () => r.received.length > 0, { timeoutMs: 15_000, what: 'the delivery' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.received).toHaveLength(1);
  });
});

describe('rotating secrets and redelivering', () => {
  it('signs with the new and the old secret during the grace period', async () => {
    const r = await receiver();
    const customer = newCustomer();
    const endpoint = await register(r.url, customer);
    const rotated = await h.api
      .post(`/webhooks/${endpoint.id}/rotate-secret`)
      .set('Authorization', h.basic('manager'));
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    const grace = new Date(rotated.body.previous_secret_expires_at).getTime() - Date.now();
    expect(grace).toBeGreaterThan(23.9 * 3600_000);

    await dispatch(await orderEvent(customer));
    await waitForDelivery(endpoint.id, 'succeeded');
    const [req] = r.received;
    const header = req!.headers['order-service-signature'] as string;
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, req!.body, rotated.body.secret)).toBe(true);
    expect(verifySignature(header, req!.body, endpoint.secret)).toBe(true);
    expect(verifySignature(header, req!.body, generateSecret())).toBe(false);
  });

  it('lists deliveries with their attempts and redelivers one as a new attempt', async () => {
    const r = await receiver();
    const customer = newCustomer();
    const endpoint = await register(r.url, customer);
    const event = await orderEvent(customer);
    await dispatch(event);
    const delivery = await waitForDelivery(endpoint.id, 'succeeded');
    expect(delivery).toMatchObject({ event_id: event.id, event_type: 'order.created' });
    expect(delivery.attempts[0]!.latency_ms).toBeGreaterThanOrEqual(0);

    const res = await h.api
      .post(`/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`)
      .set('Authorization', h.basic('manager'));
    expect(res.status).toBe(202);
    const again = await waitUntil(
      async () => {
        const [d] = await deliveries(endpoint.id);
        return d && d.attempts.length === 2 ? d : undefined;
      },
      { what: 'the second attempt' },
    );
    expect(again.attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 200],
      [2, 200],
    ]);
    expect(r.received.map((q) => q.body)).toEqual([r.received[0]!.body, r.received[0]!.body]);

    await h.api
      .post(`/webhooks/${endpoint.id}/deliveries/whd_nope/redeliver`)
      .set('Authorization', h.basic('manager'))
      .expect(404);
    await h.api
      .post(`/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`)
      .set('Authorization', h.basic('alice'))
      .expect(403);
  });
});
