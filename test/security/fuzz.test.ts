import fc from 'fast-check';
import type { Response } from 'supertest';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../src/entry-points/http-server';
import { Harness, orderBody, startHarness, TestUser, USERS } from '../helpers/harness';

/*
 * Property-based robustness: whatever a client sends, the API answers 201 or a 4xx problem —
 * never a 5xx — and a rejected request stores nothing. fast-check shrinks any failure to a
 * minimal counterexample and prints the seed to replay it (`FUZZ_SEED=<seed> npx jest ...`);
 * `FUZZ_STATS=1` prints each property's mix of statuses, to check the generators still reach
 * both accepted and rejected requests.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const runs = (numRuns: number) => ({ numRuns, seed, endOnFailure: false });

const statuses = new Map<number, number>();
afterEach(() => {
  if (process.env.FUZZ_STATS)
    console.log(expect.getState().currentTestName, Object.fromEntries(statuses));
  statuses.clear();
});

/** 201, or a 4xx problem+json whose body agrees with the status. */
function expectHandled(res: Response, accepted = [201]): void {
  if (process.env.FUZZ_STATS) statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  if (accepted.includes(res.status)) return;
  // Node's HTTP parser refuses a request line or headers over 16 KiB itself, before Express
  // (so without a problem body); behind nginx, nginx answers 414 at 8 KiB first.
  if (res.status === 431) return;
  const problem =
    /^application\/problem\+json/.test(res.headers['content-type'] ?? '') &&
    res.body?.status === res.status &&
    typeof res.body?.type === 'string';
  if (res.status < 400 || res.status > 499 || !problem) {
    const type = res.headers['content-type'] ?? 'no content type';
    throw new Error(`answered ${res.status} (${type}): ${res.text?.slice(0, 300)}`);
  }
}

async function countOrders(): Promise<number> {
  const row = await h.services.db('orders').count({ n: '*' }).first();
  return Number(row!.n);
}

let sequence = 0;
/** A fresh, valid order id per execution, so no run collides with an earlier one. */
const freshId = () => `fz-${process.pid}-${++sequence}`;

async function storedIds(ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await h.services.db('orders').whereIn('order_id', ids).select('order_id');
  return rows.map((r: { order_id: string }) => r.order_id);
}

/**
 * POSTs `body` (any JSON value, or raw text) and checks the answer and what was stored: a 201
 * stored exactly the orders it returned; anything else stored nothing, in particular none of
 * the ids the body carried.
 */
async function postAndCheck(body: unknown, as: TestUser = 'manager', raw = false): Promise<void> {
  const before = await countOrders();
  const res = await h.api
    .post('/orders')
    .set('Authorization', h.basic(as))
    .set('Content-Type', 'application/json')
    .send(raw ? (body as string) : JSON.stringify(body));
  expectHandled(res);
  const after = await countOrders();
  if (res.status === 201) {
    const created = Array.isArray(body) ? res.body.data : [res.body];
    expect(after - before).toBe(created.length);
  } else {
    expect(after).toBe(before);
    expect(await storedIds(idsIn(body))).toEqual([]);
  }
}

function idsIn(body: unknown): string[] {
  const orders = Array.isArray(body) ? body : [body];
  return orders
    .map((o) => (o && typeof o === 'object' ? (o as { order_id?: unknown }).order_id : undefined))
    .filter((id): id is string => typeof id === 'string' && id.startsWith('fz-'));
}

/** A POST /orders built by hand, so that it can carry no framing header at all. */
async function rawPost(
  port: number,
  contentType: string | undefined,
  body: string | undefined,
): Promise<{ status: number; contentType: string }> {
  const credentials = Buffer.from(`manager:${USERS.manager.password}`).toString('base64');
  const head = [
    'POST /orders HTTP/1.1',
    'Host: x',
    'Connection: close',
    `Authorization: Basic ${credentials}`,
    ...(contentType === undefined ? [] : [`Content-Type: ${contentType}`]),
    ...(body === undefined ? [] : [`Content-Length: ${Buffer.byteLength(body)}`]),
  ];
  const socket = net.connect(port, '127.0.0.1');
  socket.write(head.join('\r\n') + '\r\n\r\n' + (body ?? ''));
  const answer = await new Promise<string>((resolve) => {
    let data = '';
    socket.on('data', (d) => (data += d.toString()));
    socket.on('close', () => resolve(data));
  });
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]),
    contentType: /\r\ncontent-type: ([^\r]*)/i.exec(answer)?.[1] ?? '',
  };
}

// ---- generators --------------------------------------------------------------------------

const longString = fc
  .tuple(
    fc.constantFrom('x', 'é', '𝄞', '\u0000', '"', '\\', '%', '<'),
    fc.integer({ min: 60, max: 5000 }),
  )
  .map(([c, n]) => c.repeat(n));

/** JSON text nested `depth` levels deep, in objects or arrays. */
const nestedText = (maxDepth: number) =>
  fc
    .tuple(fc.integer({ min: 20, max: maxDepth }), fc.boolean())
    .map(([depth, array]) =>
      array
        ? '['.repeat(depth) + ']'.repeat(depth)
        : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
    );
/** Deep, but shallow enough for the test's own JSON.stringify. */
const deep = nestedText(300).map((text) => JSON.parse(text) as unknown);

/** Values of every kind a field should not hold, and edge values of the ones it may. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, -0, 1.5, 1e308, -1e308, 2 ** 31, 2 ** 53, 1e21),
  fc.constantFrom(0, 10_000, 10_001, 4294967296), // quantity edges
  fc.constantFrom('0', '0.00', '999999999999999.9999', '1e3', '-1', ' 1', '01', '.5', 'NaN'),
  fc.constantFrom('XXX', 'XTS', 'ZZZ', 'usd', 'US', 'ÜSD', 'JPY', 'KWD', 'CLF'), // currencies
  fc.constantFrom('', ' ', 'null', '[]', '{}', 'completed'),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.string(),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }), // lone surrogates too
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  longString,
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constant(Array.from({ length: 101 }, () => orderBody().items[0])), // 101 lines
  deep,
);

const validId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
/** Short enough in graphemes to stay within the schema's code-point limits. */
const text = (maxLength: number) => fc.string({ unit: 'grapheme', minLength: 1, maxLength });

const price = (digits: number) =>
  fc
    .tuple(
      fc.bigInt({ min: 0n, max: 10n ** 15n - 1n }),
      digits === 0 ? fc.constant('') : fc.stringMatching(new RegExp(`^\\.[0-9]{1,${digits}}$`)),
    )
    .map(([whole, fraction]) => `${whole}${fraction}`);

/** A valid order (a currency and prices with at most its minor-unit digits). */
const validOrder = fc
  .constantFrom(['USD', 2] as const, ['JPY', 0] as const, ['KWD', 3] as const, ['CLF', 4] as const)
  .chain(([currency, digits]) =>
    fc.record(
      {
        customer_id: validId,
        currency: fc.constant(currency),
        items: fc.array(
          fc.record({
            sku: text(16),
            name: text(50),
            quantity: fc.integer({ min: 1, max: 10_000 }),
            unit_price: price(digits),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        metadata: fc.dictionary(text(16), fc.string({ unit: 'grapheme', maxLength: 100 }), {
          maxKeys: 20,
        }),
      },
      { requiredKeys: ['customer_id', 'currency', 'items'] },
    ),
  );

/** Where a mutation lands: every input field, an item's fields, fields the server owns. */
const fieldPath = fc.constantFrom<(string | number)[]>(
  ['order_id'],
  ['customer_id'],
  ['currency'],
  ['items'],
  ['metadata'],
  ['metadata', 'channel'],
  ['items', 0],
  ['items', 0, 'sku'],
  ['items', 0, 'name'],
  ['items', 0, 'quantity'],
  ['items', 0, 'unit_price'],
  ['items', 0, 'line_total'],
  ['status'],
  ['version'],
  ['total'],
  ['created_at'],
  ['completed_at'],
  ['status_history'],
);

type Mutation = { path: (string | number)[]; value?: unknown; remove?: true };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ path: fieldPath, value: weird }), weight: 4 },
  { arbitrary: fc.record({ path: fieldPath, remove: fc.constant(true as const) }), weight: 1 },
);

type NearValid = { order: Record<string, unknown>; mutations: Mutation[]; keepId: boolean };
/** A valid order with up to three fields replaced, removed or added. */
const nearValidOrder = (maxMutations = 3): fc.Arbitrary<NearValid> =>
  fc.record({
    order: validOrder,
    mutations: fc.array(mutation, { maxLength: maxMutations }),
    keepId: fc.boolean(),
  });

/** Materialises a near-valid order: a fresh id (or none), then the mutations. */
function build({ order, mutations, keepId }: NearValid): Record<string, unknown> {
  const body = structuredClone({ ...(keepId ? { order_id: freshId() } : {}), ...order });
  for (const { path, value, remove } of mutations) {
    let target = body as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (!next || typeof next !== 'object') break;
      target = next as Record<string | number, unknown>;
    }
    const last = path.at(-1)!;
    if (remove) delete target[last];
    else target[last] = value;
  }
  return body;
}

// ---- properties --------------------------------------------------------------------------

describe('POST /orders never answers 5xx and a rejection stores nothing', () => {
  it('for any JSON value as the body', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), deep), async (body) => postAndCheck(body)),
      runs(40),
    );
  });

  it('for JSON nested up to 100,000 levels deep', async () => {
    await fc.assert(
      fc.asyncProperty(nestedText(100_000), async (text) => postAndCheck(text, 'manager', true)),
      runs(10),
    );
  });

  it('for bodies that are not JSON at all', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) =>
        postAndCheck(text, 'manager', true),
      ),
      runs(20),
    );
  });

  it('for any Content-Type and framing, including no body at all (curl -X POST)', async () => {
    const server = createHttpServer(h.services.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            undefined,
            'application/json',
            'application/json; charset=utf-8',
            'text/plain',
            'application/x-www-form-urlencoded',
            '',
          ),
          fc.oneof(
            fc.constant(undefined), // no body and no Content-Length
            fc.constantFrom('', 'null', '1', '"x"', 'true', '[]', '{}', '[null]'),
            fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
          ),
          async (contentType, body) => {
            const before = await countOrders();
            const res = await rawPost(port, contentType, body);
            expect(res.status).toBeGreaterThanOrEqual(400);
            expect(res.status).toBeLessThan(500);
            expect(res.contentType).toMatch(/^application\/problem\+json/);
            expect(await countOrders()).toBe(before);
          },
        ),
        runs(40),
      );
    } finally {
      server.close();
    }
  });

  it('for near-valid orders: mutated fields, wrong types, edge values, server-owned fields', async () => {
    await fc.assert(
      fc.asyncProperty(
        nearValidOrder(),
        fc.constantFrom<TestUser>('manager', 'alice'),
        async (o, as) => {
          // Alice is bound to c-alice; unless a mutation says otherwise, she orders for herself.
          const own = as === 'alice' ? { ...o, order: { ...o.order, customer_id: 'c-alice' } } : o;
          await postAndCheck(build(own), as);
        },
      ),
      runs(90),
    );
  });

  it('for batches of near-valid orders, with repeated ids', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            { arbitrary: nearValidOrder(0), weight: 6 },
            { arbitrary: nearValidOrder(2), weight: 1 },
          ),
          { minLength: 1, maxLength: 6 },
        ),
        fc.boolean(),
        async (list, repeat) => {
          const batch = list.map(build);
          if (repeat && batch.length > 1) batch[batch.length - 1]!.order_id = batch[0]!.order_id;
          await postAndCheck(batch);
        },
      ),
      runs(25),
    );
  });

  it('for big batches around the 500-order limit, one of them possibly broken', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 490, max: 505 }),
        fc.option(fc.tuple(fc.nat(), nearValidOrder()), { nil: undefined, freq: 2 }),
        async (size, broken) => {
          const batch = Array.from({ length: size }, () => ({
            ...orderBody(),
            order_id: freshId(),
          }));
          if (broken) batch[broken[0] % size] = build(broken[1]) as (typeof batch)[number];
          await postAndCheck(batch);
        },
      ),
      runs(8),
    );
  });
});

describe('reads never answer 5xx', () => {
  let realCursor = '';
  beforeAll(async () => {
    for (const customer_id of ['c-alice', 'c-alice', 'c-bob']) {
      const res = await h.api
        .post('/orders')
        .set('Authorization', h.basic('manager'))
        .send(orderBody({ customer_id }));
      expect(res.status).toBe(201);
    }
    const page = await h.api.get('/orders?limit=1').set('Authorization', h.basic('manager'));
    realCursor = page.body.next_cursor;
    expect(realCursor).toEqual(expect.any(String));
  });

  /** Raw text for a query value or path segment: broken percent-encoding, encoded junk. */
  const rawText = fc.oneof(
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%C0%80', '%FF', '%ED%A0%80', '..', '%2F'),
    fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
    fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
    longString.map(encodeURIComponent),
  );
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  /** Cursors that decode to the right shape with wrong contents, to junk, or not at all. */
  const cursor = fc.oneof(
    fc.tuple(fc.string(), fc.string()).map(base64url),
    fc
      .tuple(
        fc.date().map((d) => (isNaN(+d) ? 'x' : d.toISOString())),
        validId,
      )
      .map(base64url),
    fc.tuple(fc.integer({ min: -1e15, max: 1e16 }).map(String), fc.string()).map(base64url),
    fc.jsonValue().map(base64url),
    // A real cursor with one character changed.
    fc.tuple(fc.nat(), fc.constantFrom('A', '_', '-', '=', '%25')).map(([at, c]) => {
      const i = at % realCursor.length;
      return realCursor.slice(0, i) + c + realCursor.slice(i + 1);
    }),
    rawText,
  );
  /** Mostly one valid value; sometimes an invalid one, sometimes the parameter twice. */
  const param = (valid: fc.Arbitrary<string>, invalid: fc.Arbitrary<string>) => {
    const value = fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: invalid, weight: 1 });
    return fc.oneof(
      { arbitrary: value.map((v) => [v]), weight: 5 },
      { arbitrary: fc.tuple(value, value), weight: 1 },
    );
  };
  const query = fc.record(
    {
      limit: param(
        fc.integer({ min: 1, max: 200 }).map(String),
        fc.oneof(
          fc.integer({ min: -10, max: 300 }).map(String),
          fc.constantFrom('', '0', '1e2', '0x10', '5.5', '+5', 'NaN', 'Infinity', '9'.repeat(400)),
          rawText,
        ),
      ),
      cursor: param(
        fc.constant(null).map(() => realCursor),
        cursor,
      ),
      status: param(
        fc.constantFrom('pending', 'processing', 'completed', 'cancelled', 'failed'),
        fc.oneof(fc.constantFrom('PENDING', ''), rawText),
      ),
      customer_id: param(fc.constantFrom('c-alice', 'c-bob'), fc.oneof(validId, rawText)),
    },
    { requiredKeys: [] },
  );
  const queryString = (q: Record<string, string[]>) =>
    Object.entries(q)
      .flatMap(([name, values]) => values.map((v) => `${name}=${v}`))
      .join('&');

  it('GET /orders with any query string', async () => {
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom<TestUser>('manager', 'alice'), async (q, as) => {
        const res = await h.api.get(`/orders?${queryString(q)}`).set('Authorization', h.basic(as));
        expectHandled(res, [200]);
        if (res.status === 200) expect(Array.isArray(res.body.data)).toBe(true);
      }),
      runs(60),
    );
  });

  it('order and customer paths with any id', async () => {
    const routes = {
      'GET /orders/{id}': (x: string) => h.api.get(`/orders/${x}`),
      'POST /orders/{id}/cancel': (x: string) => h.api.post(`/orders/${x}/cancel`),
      'POST /orders/{id}/retry': (x: string) => h.api.post(`/orders/${x}/retry`),
      'GET /customers/{id}/items': (x: string) => h.api.get(`/customers/${x}/items`),
      'GET /customers/{id}/summary': (x: string) => h.api.get(`/customers/${x}/summary`),
    };
    const route = fc.constantFrom(...(Object.keys(routes) as (keyof typeof routes)[]));
    const id = fc.oneof(validId, fc.constantFrom('c-alice', 'c-bob'), rawText);
    await fc.assert(
      fc.asyncProperty(
        route,
        id,
        fc.constantFrom<TestUser>('manager', 'alice'),
        async (name, x, as) => {
          const before = await countOrders();
          const res = await routes[name](x).set('Authorization', h.basic(as));
          expectHandled(res, [200]);
          expect(await countOrders()).toBe(before);
        },
      ),
      runs(50),
    );
  });
});

describe('POST /orders/retry answers 202 or a 4xx problem', () => {
  /** Times in and out of RFC 3339, and around the ends of what MySQL and JavaScript hold. */
  const often = <T>(usual: fc.Arbitrary<T>, other: fc.Arbitrary<unknown>) =>
    fc.oneof({ arbitrary: usual, weight: 4 }, { arbitrary: other, weight: 1 });
  const time = often(
    fc
      .date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z') })
      .filter((d) => !Number.isNaN(d.getTime()))
      .map((d) => d.toISOString()),
    fc.oneof(
      fc.constantFrom(
        '2026-11-30T00:00:00+14:00',
        '9999-12-31T23:59:59-23:59',
        '0000-01-01T00:00:00Z',
        '2016-12-31T23:59:60Z',
        '2026-02-30T00:00:00Z',
        '2026-11-30',
        '2026-11-30T00:00:00',
        '+275760-09-13T00:00:00Z',
      ),
      weird,
    ),
  );
  const fields = {
    status: often(fc.constant('failed'), fc.oneof(fc.constantFrom('pending', 'FAILED'), weird)),
    failed_since: time,
    failed_before: time,
    customer_id: often(validId, weird),
    limit: often(fc.integer({ min: 1, max: 10_000 }), fc.oneof(fc.integer(), weird)),
  };
  const filter = fc.oneof(
    { arbitrary: fc.record(fields, { requiredKeys: ['status', 'failed_since'] }), weight: 3 },
    { arbitrary: fc.record(fields, { requiredKeys: [] }), weight: 1 },
  );

  it('for near-valid filters and any JSON value', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: filter, weight: 4 }, { arbitrary: fc.jsonValue(), weight: 1 }),
        fc.constantFrom<TestUser>('manager', 'alice'),
        async (body, as) => {
          const res = await h.api
            .post('/orders/retry')
            .set('Authorization', h.basic(as))
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(body));
          expectHandled(res, [202]);
        },
      ),
      runs(150),
    );
  });
});
