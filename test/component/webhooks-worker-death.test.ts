import { createDb } from '../../src/data-access/db';
import { orderBody, waitUntil } from '../helpers/harness';
import { ADMIN_AUTH, useRoleProcesses } from '../helpers/role-processes';
import { startReceiver } from '../helpers/webhook-receiver';

/*
 * A worker SIGKILLed while it delivers webhooks loses none: another worker delivers every
 * event. Delivery is at least once (receivers de-duplicate by Order-Service-Event-Id): only
 * attempts in flight at the kill, at most the worker's concurrency, may arrive twice.
 */
jest.setTimeout(120_000);

const CONCURRENCY = 4;
const processes = useRoleProcesses('webhook_death', {
  MIGRATE_ON_START: 'true',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_CONCURRENCY: String(CONCURRENCY),
});

it('delivers every event once a worker killed mid-delivery is replaced', async () => {
  // Slow answers, so deliveries are in flight when the worker dies.
  const receiver = await startReceiver((_req, res) => void setTimeout(() => res.end('ok'), 30));
  const db = createDb(processes.databaseUrl());
  try {
    const api = await processes.start('api');
    const call = (path: string, body: unknown) =>
      fetch(`${api.base}${path}`, {
        method: 'POST',
        headers: { Authorization: ADMIN_AUTH, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    const hook = await call('/webhooks', {
      url: receiver.url,
      events: ['order.created', 'order.completed'],
    });
    expect(hook.status).toBe(201);
    const first = await processes.start('worker');
    const ids = Array.from({ length: 60 }, (_, i) => `wd-${i}`);
    expect(
      (
        await call(
          '/orders',
          ids.map((order_id) => orderBody({ order_id })),
        )
      ).status,
    ).toBe(201);

    await waitUntil(async () => receiver.received.length >= 20, {
      intervalMs: 5,
      what: 'the first deliveries',
    });
    await first.stop('SIGKILL');
    const beforeKill = receiver.received.length;
    await processes.start('worker');

    const expected: string[] = await db('order_events')
      .whereIn('order_id', ids)
      .whereIn('type', ['order.created', 'order.completed'])
      .pluck('event_id');
    expect(expected).toHaveLength(2 * ids.length);
    const received = () => receiver.received.map((r) => r.headers['order-service-event-id']);
    await waitUntil(async () => expected.every((id) => received().includes(id)), {
      timeoutMs: 60_000,
      what: 'every event delivered',
    });
    expect(beforeKill).toBeLessThan(expected.length);
    expect(new Set(received())).toEqual(new Set(expected));
    const duplicates = received().length - new Set(received()).size;
    expect(duplicates).toBeLessThanOrEqual(CONCURRENCY);
  } finally {
    await receiver.close();
    await db.destroy();
  }
});
