import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { createRemoteJWKSet, jwtVerify, SignJWT, JWTPayload } from 'jose';
import { AppError } from '../lib/app-error';
import type { UserRecord, UserRepository } from '../data-access/user-repository';
import type { Principal, UserRole } from './principal';

export const TOKEN_ISSUER = 'order-service';
export const TOKEN_TTL_SECONDS = 900;
const BCRYPT_COST = 10;
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

export interface JwtSettings {
  secret?: string;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export function createAuthentication(deps: { users: UserRepository; jwt: JwtSettings }) {
  const secret = deps.jwt.secret ? new TextEncoder().encode(deps.jwt.secret) : undefined;
  const jwks = deps.jwt.jwksUrl ? createRemoteJWKSet(new URL(deps.jwt.jwksUrl)) : undefined;
  // Unknown users are checked against this hash so they take as long as a wrong password.
  const dummyHash = bcrypt.hashSync(randomBytes(16).toString('hex'), BCRYPT_COST);
  // Successful verifications, keyed by an HMAC of the credentials under a per-process key
  // (never the password), valid only while the stored hash is unchanged.
  const cacheKey = randomBytes(32);
  const verified = new Map<string, { hash: string; expires: number }>();

  async function verifyPassword(
    username: string,
    password: string,
  ): Promise<Principal | undefined> {
    const user = await deps.users.find(username);
    const key = createHmac('sha256', cacheKey).update(`${username}\0${password}`).digest('hex');
    const hit = verified.get(key);
    if (user && hit && hit.expires > Date.now() && safeEqual(hit.hash, user.password_hash)) {
      return toPrincipal(user);
    }
    const ok = await bcrypt.compare(password, user?.password_hash ?? dummyHash);
    if (!user || !ok) return undefined;
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.set(key, { hash: user.password_hash, expires: Date.now() + CACHE_TTL_MS });
    return toPrincipal(user);
  }

  async function issueToken(principal: Principal): Promise<string> {
    if (!secret)
      throw new AppError('forbidden', 'This deployment does not issue tokens (no JWT_SECRET).');
    return new SignJWT({ role: principal.role, customer_id: principal.customerId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.username)
      .setIssuer(TOKEN_ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
      .sign(secret);
  }

  /** Our own HS256 tokens first, then (if configured) the external provider's JWKS. */
  async function verifyToken(token: string): Promise<Principal | undefined> {
    if (secret) {
      const own = await jwtVerify(token, secret, { algorithms: ['HS256'], issuer: TOKEN_ISSUER })
        .then((r) => r.payload)
        .catch(() => undefined);
      if (own) return fromClaims(own);
    }
    if (jwks) {
      const external = await jwtVerify(token, jwks, {
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        issuer: deps.jwt.issuer,
        audience: deps.jwt.audience,
        clockTolerance: 30,
      })
        .then((r) => r.payload)
        .catch(() => undefined);
      if (external) return fromClaims(external);
    }
    return undefined;
  }

  return { verifyPassword, issueToken, verifyToken };
}

export type Authentication = ReturnType<typeof createAuthentication>;

function toPrincipal(user: UserRecord): Principal {
  return { username: user.username, role: user.role, customerId: user.customer_id ?? undefined };
}

function fromClaims(claims: JWTPayload): Principal | undefined {
  const role = claims.role as UserRole | undefined;
  const customerId = typeof claims.customer_id === 'string' ? claims.customer_id : undefined;
  if (!claims.sub || (role !== 'manager' && role !== 'customer')) return undefined;
  if (role === 'customer' && !customerId) return undefined;
  return { username: claims.sub, role, customerId: role === 'customer' ? customerId : undefined };
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
