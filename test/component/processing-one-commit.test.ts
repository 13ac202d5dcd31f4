import { Harness, orderBody, pendingOrder, processAlone, startHarness } from '../helpers/harness';

/* Without a fulfilment step, pending → processing → completed is one transaction. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const processJob = (id: string) => processAlone(h, id);

describe('order processing without a fulfilment step', () => {
  it('enqueues the orders of one request as one job', async () => {
    const ids = ['job-1', 'job-2', 'job-3'];
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(ids.map((order_id) => orderBody({ order_id, customer_id: 'c-job' })))
      .expect(201);
    const jobs = await h.services.orderQueue.queue.getJobs(['waiting']);
    const mine = jobs.filter((j) => j.data.orderIds?.includes('job-1'));
    expect(mine.map((j) => j.data.orderIds)).toEqual([ids]);
    const counts = await h.roles.worker.useCases.processOrders(ids, false);
    expect(counts).toEqual({ completed: 3, skipped: 0, missing: 0 });
  });

  it('splits a large enqueue (a re-send after an outage) into jobs of at most 1,000 orders', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `split-${i}`);
    await h.services.orderQueue.enqueue(ids);
    const jobs = (await h.services.orderQueue.queue.getJobs(['waiting'])).filter((j) =>
      j.data.orderIds?.[0]?.startsWith('split-'),
    );
    expect(jobs.map((j) => j.data.orderIds!.length).sort((a, b) => b - a)).toEqual([
      1000, 1000, 500,
    ]);
    expect(new Set(jobs.flatMap((j) => j.data.orderIds))).toEqual(new Set(ids));
  });

  it('processes a job of orders in statements that do not grow with its size', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `stmts-${i}`);
    await h.services.repositories.orders.insertOrders(ids.map((id) => pendingOrder(id, 'c-stmts')));
    const statements: string[] = [];
    const listen = (q: { sql: string }) => void statements.push(q.sql);
    h.services.db.on('query', listen);
    try {
      const counts = await h.roles.worker.useCases.processOrders(ids, false);
      expect(counts).toEqual({ completed: 20, skipped: 0, missing: 0 });
    } finally {
      h.services.db.off('query', listen);
    }
    // The orders and their items (no history: processing never reads it), then one
    // transaction: BEGIN, lock, update, history, events, three read models, COMMIT.
    expect(statements.filter((sql) => /order_status_history/.test(sql))).toEqual([
      expect.stringMatching(/^insert/i),
    ]);
    expect(statements).toHaveLength(11);
  });

  it('commits both steps at once, recording each in the history and the read models', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('one-1', 'c-one')]);
    const commits: string[] = [];
    const listen = (q: { sql: string }) => {
      if (/^commit/i.test(q.sql)) commits.push(q.sql);
    };
    h.services.db.on('query', listen);
    try {
      expect(await processJob('one-1')).toBe('completed');
    } finally {
      h.services.db.off('query', listen);
    }
    expect(commits).toHaveLength(1);
    const history = await h.services
      .db('order_status_history')
      .where('order_id', 'one-1')
      .orderBy('version');
    expect(history.map((r) => [r.version, r.status])).toEqual([
      [1, 'pending'],
      [2, 'processing'],
      [3, 'completed'],
    ]);
    const order = await h.services.db('orders').where('order_id', 'one-1').first();
    expect([order.status, order.version]).toEqual(['completed', 3]);
    const summary = await h.services.db('customer_summaries').where('customer_id', 'c-one').first();
    expect(summary.orders_count).toBe(1);
  });

  it('still has one effect when the same order is processed three times at once', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('one-2', 'c-two')]);
    const outcomes = await Promise.all([
      processJob('one-2'),
      processJob('one-2'),
      processJob('one-2'),
    ]);
    expect(outcomes.sort()).toEqual(['completed', 'skipped', 'skipped']);
    const summary = await h.services.db('customer_summaries').where('customer_id', 'c-two').first();
    expect(summary.orders_count).toBe(1);
    const history = await h.services.db('order_status_history').where('order_id', 'one-2');
    expect(history).toHaveLength(3);
  });

  it('leaves a cancelled order alone', async () => {
    await h.services.repositories.orders.insertOrders([pendingOrder('one-3', 'c-three')]);
    await h.api.post('/orders/one-3/cancel').set('Authorization', h.basic('manager')).expect(200);
    expect(await processJob('one-3')).toBe('skipped');
  });

  it('completes orders processed at once in shared transactions with exact read models', async () => {
    const skus = ['TEA', 'CUP', 'POT'];
    const orders = Array.from({ length: 40 }, (_, n) =>
      pendingOrder(`many-${n}`, `c-many-${n % 3}`, [
        { sku: skus[n % 3]!, name: `name-${n}`, quantity: 1 + (n % 4), unit_price: '2.50' },
        // The same sku twice in one order counts as one order for that sku.
        { sku: 'TEA', name: 'tea', quantity: 1, unit_price: '1.00' },
      ]),
    );
    await h.services.repositories.orders.insertOrders(orders);
    let commits = 0;
    const listen = (q: { sql: string }) => void (/^commit/i.test(q.sql) && commits++);
    h.services.db.on('query', listen);
    const outcomes = await Promise.all(orders.map((o) => processJob(o.order_id))).finally(() =>
      h.services.db.off('query', listen),
    );
    expect(outcomes.every((o) => o === 'completed')).toBe(true);
    // Forty completions, far fewer commits: they were grouped.
    expect(commits).toBeLessThan(20);

    const expected = new Map<string, { quantity: number; orders: number }>();
    for (const o of orders) {
      const seen = new Set<string>();
      for (const item of o.items) {
        const key = `${o.customer_id}/${item.sku}`;
        const row = expected.get(key) ?? { quantity: 0, orders: 0 };
        row.quantity += item.quantity;
        if (!seen.has(key)) row.orders += 1;
        seen.add(key);
        expected.set(key, row);
      }
    }
    const rows = await h.services
      .db('customer_items')
      .where('customer_id', 'like', 'c-many-%')
      .select('customer_id', 'sku', 'quantity', 'orders');
    expect(
      Object.fromEntries(
        rows.map((r) => [`${r.customer_id}/${r.sku}`, { quantity: r.quantity, orders: r.orders }]),
      ),
    ).toEqual(Object.fromEntries(expected));
    const summaries = await h.services
      .db('customer_summaries')
      .where('customer_id', 'like', 'c-many-%')
      .orderBy('customer_id')
      .pluck('orders_count');
    expect(summaries).toEqual([14, 13, 13]);
    const history = await h.services
      .db('order_status_history')
      .where('order_id', 'like', 'many-%')
      .count({ n: '*' });
    expect(Number(history[0]!.n)).toBe(40 * 3);
  });
});
