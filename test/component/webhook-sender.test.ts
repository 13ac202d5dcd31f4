import { sendWebhook } from '../../src/data-access/webhook-sender';
import { startReceiver } from '../helpers/webhook-receiver';

// The sender alone against real local servers: what it connects to and how much it reads.
const receivers: { close(): Promise<void> }[] = [];
afterAll(async () => Promise.all(receivers.map((r) => r.close())));

async function receiver(...args: Parameters<typeof startReceiver>) {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

it('connects to the checked address, never resolving the host name again', async () => {
  const r = await receiver();
  // `.invalid` never resolves: reaching the receiver proves no second lookup took place.
  const url = new URL(`http://rebound.invalid:${r.port}/hook`);
  const result = await sendWebhook({ url, address: '127.0.0.1', family: 4 }, {}, '{}', 2000);
  expect(result).toMatchObject({ outcome: 'success', statusCode: 200 });
  expect(r.received[0]!.headers.host).toBe(`rebound.invalid:${r.port}`);
});

it('keeps the first kilobyte of a large answer and stops reading', async () => {
  const r = await receiver((_req, res) => {
    res.statusCode = 500;
    res.end('x'.repeat(1024 * 1024));
  });
  const url = new URL(r.url);
  const result = await sendWebhook({ url, address: '127.0.0.1', family: 4 }, {}, '{}', 2000);
  expect(result).toMatchObject({ outcome: 'http_error', statusCode: 500, error: 'HTTP 500' });
  expect(result.excerpt).toHaveLength(1024);
});

it('reports a refused connection as a network failure', async () => {
  const r = await receiver();
  const url = new URL(r.url);
  await r.close();
  const result = await sendWebhook({ url, address: '127.0.0.1', family: 4 }, {}, '{}', 2000);
  expect(result).toMatchObject({ outcome: 'network', statusCode: null });
  expect(result.error).toMatch(/ECONNREFUSED/);
});
