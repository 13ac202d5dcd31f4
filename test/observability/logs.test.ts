import { Harness, orderBody, startHarness, USERS, waitUntil } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  await h.startWorkers();
});
afterAll(async () => {
  await h?.stop();
});

type Line = Record<string, unknown>;
const lines = (): Line[] => h.logs.map((l) => JSON.parse(l) as Line);

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('logs', () => {
  it('are JSON lines; a request gets one access line with method, route, status and latency', async () => {
    await h.api
      .get('/orders/log-missing-1')
      .set('Authorization', h.basic('manager'))
      .set('X-Request-Id', 'log-req-1')
      .expect(404);
    const mine = lines().filter((l) => l.request_id === 'log-req-1');
    const access = mine.filter((l) => l.message === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 'info',
      method: 'GET',
      route: '/orders/:order_id',
      status_code: '404',
      duration_ms: expect.any(Number),
      timestamp: expect.any(String),
    });
  });

  it('log the W3C traceparent a request carries on its access line', async () => {
    await h.api
      .get('/orders/log-missing-2')
      .set('Authorization', h.basic('manager'))
      .set('X-Request-Id', 'log-req-2')
      .set('traceparent', TRACEPARENT)
      .expect(404);
    const access = lines().find((l) => l.request_id === 'log-req-2' && l.message === 'request');
    expect(access).toMatchObject({ traceparent: TRACEPARENT });
  });

  it('carry the request_id and traceparent on lines written while handling the request', async () => {
    const enqueue = jest
      .spyOn(h.services.orderQueue, 'enqueue')
      .mockRejectedValueOnce(new Error('redis is away'));
    try {
      await h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .set('X-Request-Id', 'log-req-4')
        .set('traceparent', TRACEPARENT)
        .send(orderBody({ order_id: 'log-order-unqueued' }))
        .expect(201);
    } finally {
      enqueue.mockRestore();
    }
    const warning = lines().find((l) => String(l.message).startsWith('enqueue failed'));
    expect(warning).toMatchObject({ request_id: 'log-req-4', traceparent: TRACEPARENT });
  });

  it('carry job_id and order_id on every line a job writes', async () => {
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .set('X-Request-Id', 'log-req-3')
      .send(orderBody({ order_id: 'log-order-1' }))
      .expect(201);
    await waitUntil(
      async () => lines().some((l) => l.order_id === 'log-order-1' && l.to === 'completed'),
      { what: 'the job to log its completion' },
    );
    const jobId = lines().find((l) => l.order_id === 'log-order-1' && l.to === 'completed')?.job_id;
    expect(jobId).toEqual(expect.any(String));
    const jobLines = lines().filter((l) => l.job_id === jobId);
    expect(jobLines.map((l) => [l.message, l.to])).toEqual(
      expect.arrayContaining([
        ['order status changed', 'processing'],
        ['order status changed', 'completed'],
      ]),
    );
    for (const line of jobLines) expect(line.order_id).toBe('log-order-1');
    // The job runs outside the request: it must not borrow the request's id.
    for (const line of jobLines) expect(line.request_id).toBeUndefined();
  });

  it('never contain passwords, Authorization headers or tokens', async () => {
    const token = (await h.api.post('/auth/token').set('Authorization', h.basic('alice'))).body
      .access_token as string;
    await h.api.get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    await h.api
      .get('/orders')
      .set('Authorization', 'Basic ' + Buffer.from('alice:wrong-password').toString('base64'))
      .expect(401);
    const all = h.logs.join('\n');
    for (const secret of [
      token,
      USERS.alice.password,
      USERS.manager.password,
      'wrong-password',
      h.basic('alice').split(' ')[1]!,
      h.basic('manager').split(' ')[1]!,
    ]) {
      expect(all).not.toContain(secret);
    }
  });
});
