import { Harness, orderBody, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const problem = (
  res: { headers: Record<string, string>; body: Record<string, unknown> },
  status: number,
) => {
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    request_id: expect.any(String),
  });
};

describe('public endpoints', () => {
  it('GET /ping answers ok', async () => {
    const res = await h.api.get('/ping');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /healthz answers 200 without touching dependencies', async () => {
    expect((await h.api.get('/healthz')).status).toBe(200);
  });

  it('GET /readyz reports both dependencies', async () => {
    const res = await h.api.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { mysql: 'ok', redis: 'ok' } });
  });

  it('GET /readyz answers 503 while draining', async () => {
    h.services.readiness.startDraining(); // no later test in this file needs readiness
    const res = await h.api.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('draining');
  });

  it('serves the OpenAPI 3.1 document and interactive docs', async () => {
    const doc = await h.api.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/orders');
    const docs = await h.api.get('/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('/docs/swagger-ui-bundle.js');
    const bundle = await h.api.get('/docs/swagger-ui-bundle.js');
    expect(bundle.status).toBe(200);
    const init = await h.api.get('/docs/init.js');
    expect(init.text).toContain('/openapi.json');
  });
});

describe('request ids', () => {
  it('echoes a client X-Request-Id', async () => {
    const res = await h.api.get('/ping').set('X-Request-Id', 'client-123');
    expect(res.headers['x-request-id']).toBe('client-123');
  });

  it('generates one otherwise, also on errors, and puts it in the problem body', async () => {
    const res = await h.api.get('/orders');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.request_id).toBe(res.headers['x-request-id']);
  });
});

describe('bad requests never yield a 500', () => {
  const auth = () => h.basic('manager');

  it('404 for an unknown route', async () => {
    const res = await h.api.get('/nope').set('Authorization', auth());
    expect(res.status).toBe(404);
    problem(res, 404);
  });

  it('405 for a wrong method', async () => {
    const res = await h.api.delete('/orders').set('Authorization', auth());
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, POST');
    problem(res, 405);
  });

  it('413 for a body over 1 MiB', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', auth())
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 10) }));
    expect(res.status).toBe(413);
    problem(res, 413);
  });

  it('415 for a non-JSON body', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', auth())
      .set('Content-Type', 'text/plain')
      .send('hello');
    expect(res.status).toBe(415);
    problem(res, 415);
  });

  it('400 for malformed JSON', async () => {
    const res = await h.api
      .post('/orders')
      .set('Authorization', auth())
      .set('Content-Type', 'application/json')
      .send('{"a":');
    expect(res.status).toBe(400);
    problem(res, 400);
  });

  it.each([['null'], ['42'], ['"string"'], ['[]'], ['{}']])(
    '400 for the JSON body %s',
    async (body) => {
      const res = await h.api
        .post('/orders')
        .set('Authorization', auth())
        .set('Content-Type', 'application/json')
        .send(body);
      expect(res.status).toBe(400);
      problem(res, 400);
    },
  );

  it('400 for an order id over 64 characters in the path', async () => {
    const res = await h.api.get(`/orders/${'x'.repeat(65)}`).set('Authorization', auth());
    expect(res.status).toBe(400);
  });

  it('400 for metadata with more than 20 values or non-string values', async () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    expect(
      (
        await h.api
          .post('/orders')
          .set('Authorization', auth())
          .send(orderBody({ metadata: many }))
      ).status,
    ).toBe(400);
    expect(
      (
        await h.api
          .post('/orders')
          .set('Authorization', auth())
          .send(orderBody({ metadata: { a: 1 } }))
      ).status,
    ).toBe(400);
  });
});
