import { createRequire } from 'node:module';
import { Harness, orderBody, startHarness } from '../helpers/harness';

/*
 * express-openapi-validator looks up each request's operation by compiling the document's
 * route patterns; the api compiles each of them once, not on every request.
 */

interface PathToRegexpModule {
  pathToRegexp: (...args: unknown[]) => unknown;
}

describe('the OpenAPI route lookup', () => {
  const paths = createRequire(require.resolve('express-openapi-validator'))(
    'path-to-regexp',
  ) as PathToRegexpModule;
  const original = paths.pathToRegexp;
  let compilations = 0;
  let h: Harness;

  beforeAll(async () => {
    // Counts what the validator's calls reach before the api wraps the function.
    paths.pathToRegexp = (...args: unknown[]) => {
      compilations++;
      return original(...args);
    };
    h = await startHarness();
  });
  afterAll(async () => {
    await h.stop();
    paths.pathToRegexp = original;
  });

  it('compiles no route pattern for requests after the first of each route', async () => {
    const post = () =>
      h.api.post('/orders').set('Authorization', h.basic('alice')).send(orderBody()).expect(201);
    const get = (id: string) =>
      h.api.get(`/orders/${id}`).set('Authorization', h.basic('alice')).expect(200);
    const first = await post();
    await get(first.body.order_id);
    const afterFirst = compilations;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) await get((await post()).body.order_id);
    expect(compilations).toBe(afterFirst);
  });
});
