import { SignJWT } from 'jose';
import { saveUser } from '../../src/domain/manage-users';
import { Harness, JWT_SECRET, orderBody, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const secret = new TextEncoder().encode(JWT_SECRET);
const sign = (
  claims: Record<string, unknown>,
  opts: { iss?: string; exp?: string; alg?: string } = {},
) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setSubject('someone')
    .setIssuer(opts.iss ?? 'order-service')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(secret);

describe('authentication', () => {
  it('answers 401 with both challenges when credentials are missing', async () => {
    const res = await h.api.get('/orders');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="order-service", Bearer');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 401,
      type: expect.stringMatching(/unauthenticated$/),
    });
  });

  it.each([
    ['a wrong password', 'Basic ' + Buffer.from('manager:wrong').toString('base64')],
    ['an unknown user', 'Basic ' + Buffer.from('ghost:whatever').toString('base64')],
    ['garbage Basic', 'Basic !!!'],
    ['a garbage token', 'Bearer not-a-jwt'],
    ['an unknown scheme', 'Digest abc'],
  ])('answers 401 for %s', async (_name, header) => {
    const res = await h.api.get('/orders').set('Authorization', header);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('Basic');
  });

  it('counts failures by method', async () => {
    await h.api.get('/orders').set('Authorization', 'Bearer nope');
    const metric = await h.services.metrics.authFailures.get();
    expect(metric.values.find((v) => v.labels.method === 'bearer')?.value).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('issues a 900 s HS256 token for Basic credentials with the documented claims', async () => {
    const res = await h.api.post('/auth/token').set('Authorization', h.basic('alice'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const [header, payload] = res.body.access_token
      .split('.')
      .slice(0, 2)
      .map((p: string) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.alg).toBe('HS256');
    expect(payload).toMatchObject({
      sub: 'alice',
      role: 'customer',
      customer_id: 'c-alice',
      iss: 'order-service',
    });
    expect(payload.exp - payload.iat).toBe(900);
  });

  it('accepts the issued token as Bearer with the same rights', async () => {
    const { body } = await h.api.post('/auth/token').set('Authorization', h.basic('alice'));
    const bearer = `Bearer ${body.access_token}`;
    const own = await h.api
      .post('/orders')
      .set('Authorization', bearer)
      .send(orderBody({ customer_id: undefined }));
    expect(own.status).toBe(201);
    expect(own.body.customer_id).toBe('c-alice');
    const other = await h.api.get('/customers/c-bob/summary').set('Authorization', bearer);
    expect(other.status).toBe(403);
  });

  it('does not mint a token from a token', async () => {
    const { body } = await h.api.post('/auth/token').set('Authorization', h.basic('manager'));
    const res = await h.api.post('/auth/token').set('Authorization', `Bearer ${body.access_token}`);
    expect(res.status).toBe(401);
  });

  it.each([
    ['an expired token', () => sign({ role: 'manager' }, { exp: '-1m' })],
    ['a foreign issuer', () => sign({ role: 'manager' }, { iss: 'evil' })],
    ['HS512 instead of HS256', () => sign({ role: 'manager' }, { alg: 'HS512' })],
    ['a token without role', () => sign({})],
    ['a customer token without customer_id', () => sign({ role: 'customer' })],
    [
      'alg none',
      async () =>
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
          JSON.stringify({ sub: 'x', role: 'manager', iss: 'order-service', exp: 9999999999 }),
        ).toString('base64url')}.`,
    ],
  ])('rejects %s with 401', async (_name, token) => {
    const res = await h.api.get('/orders').set('Authorization', `Bearer ${await token()}`);
    expect(res.status).toBe(401);
  });

  it('stops accepting a password once it is changed', async () => {
    expect((await h.api.get('/orders').set('Authorization', h.basic('bob'))).status).toBe(200);
    await saveUser(h.services.repositories.users, {
      username: 'bob',
      role: 'customer',
      customerId: 'c-bob',
      password: 'new-password',
    });
    expect((await h.api.get('/orders').set('Authorization', h.basic('bob'))).status).toBe(401);
  });
});

describe('roles', () => {
  it('lets managers read any order and customers only their own', async () => {
    await h.api
      .post('/orders')
      .set('Authorization', h.basic('manager'))
      .send(orderBody({ order_id: 'role-1', customer_id: 'c-zed' }))
      .expect(201);
    expect(
      (await h.api.get('/orders/role-1').set('Authorization', h.basic('manager'))).status,
    ).toBe(200);
    expect((await h.api.get('/orders/role-1').set('Authorization', h.basic('alice'))).status).toBe(
      404,
    );
  });
});
