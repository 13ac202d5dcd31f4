import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/domain/place-orders';
import { Harness, orderBody, startHarness, waitUntil } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const post = (key: string, body: unknown, user: 'manager' | 'alice' = 'manager') =>
  h.api
    .post('/orders')
    .set('Authorization', h.basic(user))
    .set('Idempotency-Key', key)
    .send(body as object);

describe('Idempotency-Key on POST /orders', () => {
  it('replays the first response for a retry with the same body, storing one order', async () => {
    const body = orderBody();
    const first = await post('key-1', body);
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const retry = await post('key-1', body);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.location).toBe(first.headers.location);
    const rows = await h.services.db('orders').where('order_id', first.body.order_id);
    expect(rows).toHaveLength(1);
    const metric = await h.services.metrics.idempotencyReplays.get();
    expect(metric.values[0]?.value).toBeGreaterThanOrEqual(1);
  });

  it('treats the same JSON with keys in another order as the same request', async () => {
    const first = await post('key-order', {
      currency: 'USD',
      customer_id: 'c-alice',
      items: orderBody().items,
    });
    const retry = await post('key-order', {
      items: orderBody().items,
      customer_id: 'c-alice',
      currency: 'USD',
    });
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.order_id).toBe(first.body.order_id);
  });

  it('answers 422 for the same key with a different body', async () => {
    await post('key-2', orderBody());
    const res = await post('key-2', orderBody({ currency: 'EUR' }));
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/idempotency-key-reused$/);
  });

  it('scopes keys per user', async () => {
    const a = await post('shared-key', orderBody({ customer_id: undefined }), 'alice');
    const m = await post('shared-key', orderBody());
    expect(a.status).toBe(201);
    expect(m.status).toBe(201);
    expect(m.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 409 while the first request with the key is in flight', async () => {
    // Make the first request slow for real: a lock on its order id's slot in the primary key
    // holds its INSERT until the blocker ends.
    const blocker = await h.services.db.transaction();
    await blocker('orders').where('order_id', 'slow-1').forUpdate();
    const body = orderBody({ order_id: 'slow-1' });
    const first = post('key-inflight', body).then((r) => r);
    await waitUntil(
      async () => (await h.services.redis.keys(`${h.prefix}:idempotency:*`)).length > 0,
      {
        what: 'the first request to take the key',
      },
    );
    const second = await post('key-inflight', body);
    expect(second.status).toBe(409);
    expect(second.body.type).toMatch(/idempotency-in-flight$/);
    await blocker.commit();
    expect((await first).status).toBe(201);
    const third = await post('key-inflight', body);
    expect(third.headers['idempotent-replayed']).toBe('true');
  });

  it('stores exactly one order when many identical retries race', async () => {
    const body = orderBody({ order_id: 'race-order' });
    const results = await Promise.all(Array.from({ length: 10 }, () => post('key-race', body)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(statuses).toContain(201);
    const rows = await h.services.db('orders').where('order_id', 'race-order');
    expect(rows).toHaveLength(1);
    const after = await post('key-race', body);
    expect(after.status).toBe(201);
    expect(after.headers['idempotent-replayed']).toBe('true');
  });

  it('replays the stored body byte for byte, with Location and ETag for one order', async () => {
    const first = await post('key-bytes', orderBody({ metadata: { note: 'é ✓' } }));
    const retry = await post('key-bytes', orderBody({ metadata: { note: 'é ✓' } }));
    expect(retry.text).toBe(first.text);
    expect(retry.headers.etag).toBe(first.headers.etag);
    expect(retry.headers.location).toBe(first.headers.location);
    const batch = [orderBody(), orderBody({ customer_id: 'c-bob' })];
    const firstBatch = await post('key-bytes-batch', batch);
    const retryBatch = await post('key-bytes-batch', batch);
    expect(retryBatch.status).toBe(201);
    expect(retryBatch.headers['idempotent-replayed']).toBe('true');
    expect(retryBatch.text).toBe(firstBatch.text);
    expect(retryBatch.headers.location).toBeUndefined();
  });

  it('replays a record stored earlier exactly as it was stored', async () => {
    const body = orderBody({ order_id: 'stored-earlier' });
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const stored = JSON.stringify({
      order_id: 'stored-earlier',
      customer_id: 'c-alice',
      status: 'pending',
      currency: 'USD',
      items: [
        {
          sku: 'TEA-GREEN',
          name: 'Green tea',
          quantity: 2,
          unit_price: '9.99',
          line_total: '19.98',
        },
      ],
      total: '19.98',
      metadata: {},
      version: 1,
      created_at: '2026-11-30T10:00:00.000Z',
      updated_at: '2026-11-30T10:00:00.000Z',
      completed_at: null,
      status_history: [{ status: 'pending', at: '2026-11-30T10:00:00.000Z' }],
    });
    await h.services.db('idempotency_keys').insert({
      key_hash: sha('manager\nkey-stored'),
      fingerprint: sha(canonicalJson([body]) + '{}'),
      response_status: 201,
      response_body: stored,
      created_at: new Date(),
      expires_at: new Date(Date.now() + 60_000),
    });
    const res = await post('key-stored', body);
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBe('true');
    expect(res.text).toBe(stored);
    expect(res.headers.location).toBe('/orders/stored-earlier');
    expect(res.headers.etag).toBe('"1"');
  });

  it('is safe without Redis locks: a racing twin is replayed from MySQL', async () => {
    const body = orderBody({ order_id: 'twin-order' });
    // Two requests that both passed the lock step (as when Redis is down) race on the insert.
    const place = h.roles.api.useCases.placeOrders;
    const principal = { username: 'manager', role: 'manager' as const };
    const request = { inputs: [body], batch: false, idempotencyKey: 'key-twin' };
    const locks = h.services.redis;
    await locks.disconnect();
    try {
      const results = await Promise.allSettled([
        place(principal, request),
        place(principal, request),
      ]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok.length).toBe(2);
      expect(
        ok.filter((r) => (r as PromiseFulfilledResult<{ replayed: boolean }>).value.replayed),
      ).toHaveLength(1);
    } finally {
      await locks.connect();
    }
    expect(await h.services.db('orders').where('order_id', 'twin-order')).toHaveLength(1);
  });

  it('forgets a key after 24 hours', async () => {
    const first = await post('key-old', orderBody());
    await h.services.db('idempotency_keys').update({ expires_at: new Date(Date.now() - 1000) });
    const again = await post('key-old', orderBody());
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
    expect(again.body.order_id).not.toBe(first.body.order_id);
  });

  it('rejects a key longer than 255 characters with 400', async () => {
    const res = await post('k'.repeat(256), orderBody());
    expect(res.status).toBe(400);
  });
});
