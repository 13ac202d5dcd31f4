import { transition } from '../../src/domain/order';
import { Harness, pendingOrder, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ORDER_RETENTION_DAYS: '30' });
});
afterAll(async () => h.stop());

const DAY = 24 * 60 * 60 * 1000;

describe('ORDER_RETENTION_DAYS', () => {
  it('purges finished orders past retention, keeps recent and unfinished ones and the aggregates', async () => {
    const old = (id: string) => ({
      ...pendingOrder(id, 'c-old'),
      created_at: new Date(Date.now() - 40 * DAY),
    });
    await h.services.repositories.orders.insertOrders([
      old('old-done'),
      old('old-pending'),
      pendingOrder('new-done', 'c-old'),
    ]);
    for (const id of ['old-done', 'new-done']) {
      await h.services.repositories.orders.transition(id, transition('pending', 'processing'));
      await h.services.repositories.orders.transition(id, transition('processing', 'completed'));
    }

    const purged = await h.roles.worker.useCases.purgeOrders();

    expect(purged.orders).toBe(1);
    const left = await h.services.db('orders').orderBy('order_id').pluck('order_id');
    expect(left).toEqual(['new-done', 'old-pending']);
    expect(await h.services.db('order_items').where('order_id', 'old-done')).toEqual([]);
    expect(await h.services.db('order_status_history').where('order_id', 'old-done')).toEqual([]);
    const summary = await h.api
      .get('/customers/c-old/summary')
      .set('Authorization', h.basic('manager'));
    expect(summary.body.orders_count).toBe(2);
  });

  it('purges expired idempotency records', async () => {
    await h.services.db('idempotency_keys').insert({
      key_hash: 'e'.repeat(64),
      fingerprint: 'f'.repeat(64),
      response_status: 201,
      response_body: '{}',
      created_at: new Date(Date.now() - 2 * DAY),
      expires_at: new Date(Date.now() - DAY),
    });
    expect((await h.roles.worker.useCases.purgeOrders()).idempotencyKeys).toBe(1);
    expect(await h.services.db('idempotency_keys').where('key_hash', 'e'.repeat(64))).toEqual([]);
  });
});
