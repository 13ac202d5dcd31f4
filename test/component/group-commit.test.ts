import { Harness, orderBody, startHarness } from '../helpers/harness';

/*
 * Concurrent requests share transactions (group commit); each keeps its own outcome: a
 * duplicate in one request fails that request alone, all or nothing.
 */
let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const post = (body: object) =>
  h.api.post('/orders').set('Authorization', h.basic('manager')).send(body);
const stored = async (ids: string[]) =>
  (await h.services.db('orders').whereIn('order_id', ids).pluck('order_id')).sort();

describe('group commit', () => {
  it('fails only the request with a taken order id; its neighbours are stored', async () => {
    await post(orderBody({ order_id: 'gc-taken' })).expect(201);
    const ids = Array.from({ length: 20 }, (_, i) => `gc-single-${i}`);
    const answers = await Promise.all([
      ...ids.map((id) => post(orderBody({ order_id: id }))),
      post(orderBody({ order_id: 'gc-taken' })),
    ]);
    expect(answers.map((a) => a.status)).toEqual([...ids.map(() => 201), 409]);
    expect(answers.at(-1)!.body.detail).toContain('gc-taken');
    expect(await stored(ids)).toEqual([...ids].sort());
    const items = await h.services.db('order_items').whereIn('order_id', ids).count({ n: '*' });
    expect(Number(items[0]!.n)).toBe(ids.length);
  });

  it('keeps a batch all or nothing when it meets a taken id beside other requests', async () => {
    await post(orderBody({ order_id: 'gc-batch-taken' })).expect(201);
    const batch = ['gc-batch-a', 'gc-batch-taken', 'gc-batch-b'].map((id) =>
      orderBody({ order_id: id }),
    );
    const singles = Array.from({ length: 10 }, (_, i) => `gc-beside-${i}`);
    const answers = await Promise.all([
      post(batch),
      ...singles.map((id) => post(orderBody({ order_id: id }))),
    ]);
    expect(answers.map((a) => a.status)).toEqual([409, ...singles.map(() => 201)]);
    expect(await stored(['gc-batch-a', 'gc-batch-b'])).toEqual([]);
    expect(await stored(singles)).toEqual([...singles].sort());
  });

  it('stores a new id once when two requests race for it', async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => post(orderBody({ order_id: 'gc-race' }))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect(await stored(['gc-race'])).toEqual(['gc-race']);
  });
});
