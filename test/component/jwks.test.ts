import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, JWK, KeyLike, SignJWT } from 'jose';
import { Harness, startHarness } from '../helpers/harness';

type Key = { kid: string; alg: string; privateKey: KeyLike; jwk: JWK };

async function makeKey(kid: string, alg: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A provider's JWKS endpoint whose published keys the test can rotate. */
let published: Key[] = [];
let fetches = 0;
const jwksServer = http.createServer((_req, res) => {
  fetches++;
  res
    .writeHead(200, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
});

const ISSUER = 'https://idp.test/realms/shop';
const AUDIENCE = 'order-service';
let h: Harness;
let rsa: Key;

beforeAll(async () => {
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const { port } = jwksServer.address() as AddressInfo;
  rsa = await makeKey('rsa-1', 'RS256');
  published = [rsa, await makeKey('ec-1', 'ES256'), await makeKey('ed-1', 'EdDSA')];
  h = await startHarness(
    {
      JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks`,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_ROLE_CLAIM: 'realm_access.roles',
      JWT_CUSTOMER_ID_CLAIM: 'shop.customer_id',
    },
    { jwksCooldownMs: 0 },
  );
});
afterAll(async () => {
  await h.stop();
  jwksServer.close();
});

function token(
  key: Key,
  claims: Record<string, unknown> = {},
  opts: { iss?: string; aud?: string; exp?: string | number; nbf?: string | number } = {},
) {
  const jwt = new SignJWT({
    realm_access: { roles: ['offline_access', 'customer'] },
    shop: { customer_id: 'c-alice' },
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setSubject('alice@idp')
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(key.privateKey);
}

const get = async (path: string, jwt: string) =>
  h.api.get(path).set('Authorization', `Bearer ${jwt}`);

describe('tokens of an external OIDC provider', () => {
  it.each(['rsa-1', 'ec-1', 'ed-1'])(
    'accepts a token signed with %s and maps role and customer id',
    async (kid) => {
      const key = published.find((k) => k.kid === kid)!;
      const jwt = await token(key);
      expect((await get('/customers/c-alice/summary', jwt)).status).toBe(404); // allowed, no orders yet
      expect((await get('/customers/c-bob/summary', jwt)).status).toBe(403);
    },
  );

  it('maps a manager role from a list of roles', async () => {
    const jwt = await token(rsa, { realm_access: { roles: ['customer', 'manager'] } });
    expect((await get('/customers/summaries', jwt)).status).toBe(200);
  });

  it('tolerates a little clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await get('/orders', await token(rsa, {}, { exp: now - 10 }))).status).toBe(200);
  });

  it.each([
    ['expired beyond the skew allowance', { exp: Math.floor(Date.now() / 1000) - 120 }],
    ['not yet valid', { nbf: Math.floor(Date.now() / 1000) + 600 }],
    ['from another issuer', { iss: 'https://evil.test/' }],
    ['for another audience', { aud: 'another-api' }],
  ])('rejects a token %s', async (_name, opts) => {
    expect((await get('/orders', await token(rsa, {}, opts))).status).toBe(401);
  });

  it('rejects a token without exp', async () => {
    const jwt = await new SignJWT({ realm_access: { roles: ['manager'] } })
      .setProtectedHeader({ alg: rsa.alg, kid: rsa.kid })
      .setSubject('alice@idp')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .sign(rsa.privateKey);
    expect((await get('/orders', jwt)).status).toBe(401);
  });

  it('rejects a token that lives longer than 24 hours', async () => {
    expect((await get('/orders', await token(rsa, {}, { exp: '30d' }))).status).toBe(401);
  });

  it('rejects a token without a known role', async () => {
    const jwt = await token(rsa, { realm_access: { roles: ['offline_access'] } });
    expect((await get('/orders', jwt)).status).toBe(401);
  });

  it('rejects alg none', async () => {
    const body = Buffer.from(
      JSON.stringify({
        sub: 'x',
        iss: ISSUER,
        aud: AUDIENCE,
        realm_access: { roles: ['manager'] },
        exp: 9_999_999_999,
      }),
    ).toString('base64url');
    const none = `${Buffer.from('{"alg":"none","kid":"rsa-1"}').toString('base64url')}.${body}.`;
    expect((await get('/orders', none)).status).toBe(401);
  });

  it('rejects algorithm confusion: HS256 signed with the provider public key', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = new TextEncoder().encode(await exportSPKI(publicKey));
    const forged = await new SignJWT({ realm_access: { roles: ['manager'] } })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
      .setSubject('mallory')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(pem);
    expect((await get('/orders', forged)).status).toBe(401);
  });

  it('rejects a token signed by a key the provider never published', async () => {
    const impostor = await makeKey('rsa-1', 'RS256');
    expect((await get('/orders', await token(impostor))).status).toBe(401);
  });

  it('follows a key rotation: the new key works at once, the retired one stops working', async () => {
    const next = await makeKey('rsa-2', 'RS256');
    const before = fetches;
    published = [next, ...published.filter((k) => k.kid !== 'rsa-1')];
    expect((await get('/orders', await token(next))).status).toBe(200);
    expect(fetches).toBeGreaterThan(before);
    expect((await get('/orders', await token(rsa))).status).toBe(401);
  });
});
