import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../src/entry-points/http-server';
import { Harness, orderBody, startHarness } from '../helpers/harness';

/*
 * Issue 8, items 1 and 10: a hostile body must cost little and answer little, and a careless
 * one (no body, a JSON scalar, no Content-Type) gets a 4xx that says what to send.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

/** 500 orders of 100 empty items each: 156 KB that once produced 200,500 errors (29 MB). */
const AMPLIFIER = JSON.stringify(
  Array.from({ length: 500 }, () => ({ items: Array(100).fill({}) })),
);

async function countOrders(): Promise<number> {
  const row = await h.services.db('orders').count({ n: '*' }).first();
  return Number(row!.n);
}

describe('error amplification', () => {
  it('refuses an unauthenticated body before validating it, with a small 401', async () => {
    const res = await h.api.post('/orders').set('Content-Type', 'application/json').send(AMPLIFIER);
    expect(res.status).toBe(401);
    expect(res.text.length).toBeLessThan(16 * 1024);
  });

  it('answers an authenticated invalid batch with a bounded problem', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .set('Content-Type', 'application/json')
      .send(AMPLIFIER);
    expect(res.status).toBe(400);
    expect(res.text.length).toBeLessThan(16 * 1024);
    expect(res.body.errors.length).toBeGreaterThan(0);
    expect(res.body.errors.length).toBeLessThanOrEqual(20);
    expect(res.body.detail.length).toBeLessThan(300);
  });

  it('lists at most 20 errors and counts the rest', async () => {
    // Schema-valid, but every price has too many decimals for USD: 10,000 pricing errors.
    const item = { sku: 'A', name: 'a', quantity: 1, unit_price: '1.001' };
    const body = Array.from({ length: 100 }, () => orderBody({ items: Array(100).fill(item) }));
    const res = await h.api.post('/orders').set('Authorization', h.basic('manager')).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(20);
    expect(res.body.errors_omitted).toBe(100 * 100 - 20);
    expect(res.text.length).toBeLessThan(16 * 1024);
  });

  it('does not grow memory by more than a few MB for such a body', async () => {
    const post = () =>
      h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .set('Content-Type', 'application/json')
        .send(AMPLIFIER);
    await post(); // warm-up: compiled validators, caches
    global.gc?.();
    const before = process.memoryUsage().rss;
    await Promise.all([post(), post(), post()]);
    const grown = (process.memoryUsage().rss - before) / 2 ** 20;
    expect(grown).toBeLessThan(48);
  });

  it('names the first problems of a batch by their path', async () => {
    const body = [
      orderBody(),
      orderBody({ items: [{ sku: 'X', name: 'x', quantity: 0, unit_price: '1.00' }] }),
    ];
    const res = await h.api.post('/orders').set('Authorization', h.basic('manager')).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('/1/items/0/quantity');
  });
});

/** Sends raw bytes over a socket: the exact request `curl -X POST -H 'Content-Type: …'` makes. */
async function rawRequest(head: string): Promise<{ status: number; body: string }> {
  const server = createHttpServer(h.services.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    socket.write(head);
    const answer = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
    });
    const [, status] = /^HTTP\/1\.1 (\d{3})/.exec(answer) ?? [];
    return { status: Number(status), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) };
  } finally {
    server.close();
  }
}

describe('careless bodies', () => {
  it('answers a POST with no body and no Content-Length with a 400, not a 500', async () => {
    const credentials = Buffer.from('manager:manager-password').toString('base64');
    const res = await rawRequest(
      'POST /orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
        `Authorization: Basic ${credentials}\r\nContent-Type: application/json\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).detail).toMatch(/must be an order object or an array of orders/);
  });

  it('answers a POST without any body (curl -X POST) with a 400 that asks for an order', async () => {
    const before = await countOrders();
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .set('Content-Type', 'application/json');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.detail).toMatch(/must be an order object or an array of orders/);
    expect(await countOrders()).toBe(before);
  });

  it.each([['null'], ['1'], ['"x"'], ['true']])(
    'answers the JSON value %s with "must be an order object or an array of orders"',
    async (raw) => {
      const res = await h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .set('Content-Type', 'application/json')
        .send(raw);
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/must be an order object or an array of orders/);
      expect(res.body.detail).not.toMatch(/not valid JSON/);
    },
  );

  it('still says "not valid JSON" for a body that is not JSON at all', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .set('Content-Type', 'application/json')
      .send('{"currency": ');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/not valid JSON/);
  });

  it('explains a single-order mistake without array or oneOf alternatives', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ currency: 'usd' }));
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(/oneOf|must be array/);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/currency' })]);
  });

  it('names the expected Content-Type when it is missing', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .set('Content-Type', '')
      .send(Buffer.from(JSON.stringify(orderBody())));
    expect(res.status).toBe(415);
    expect(res.body.detail).toMatch(/application\/json/);
  });
});
