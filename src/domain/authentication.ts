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
  /** Where an external provider puts the role and customer id: a claim name or dotted path. */
  roleClaim: string;
  customerIdClaim: string;
  /** How long after fetching the JWKS an unknown `kid` waits before the JWKS is fetched again. */
  jwksCooldownMs?: number;
}

/** Tokens may be a little early or late: clocks of issuers and pods drift. */
const CLOCK_TOLERANCE_SECONDS = 30;

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export function createAuthentication(deps: { users: UserRepository; jwt: JwtSettings }) {
  const secret = deps.jwt.secret ? new TextEncoder().encode(deps.jwt.secret) : undefined;
  // Cached; a token signed with an unknown key id (a rotation) triggers one re-fetch.
  const jwks = deps.jwt.jwksUrl
    ? createRemoteJWKSet(new URL(deps.jwt.jwksUrl), {
        cooldownDuration: deps.jwt.jwksCooldownMs ?? 30_000,
        cacheMaxAge: 10 * 60_000,
      })
    : undefined;
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
      const own = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      })
        .then((r) => r.payload)
        .catch(() => undefined);
      if (own) return fromClaims(own, 'role', 'customer_id');
    }
    if (jwks) {
      // Asymmetric algorithms only: an HS256 token "signed" with a provider's public key
      // (algorithm confusion) is refused here, and our own secret never verifies it.
      const external = await jwtVerify(token, jwks, {
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        issuer: deps.jwt.issuer,
        audience: deps.jwt.audience,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      })
        .then((r) => r.payload)
        .catch(() => undefined);
      if (external) return fromClaims(external, deps.jwt.roleClaim, deps.jwt.customerIdClaim);
    }
    return undefined;
  }

  return { verifyPassword, issueToken, verifyToken };
}

export type Authentication = ReturnType<typeof createAuthentication>;

function toPrincipal(user: UserRecord): Principal {
  return { username: user.username, role: user.role, customerId: user.customer_id ?? undefined };
}

/**
 * A role claim may be a string or, as in Keycloak's `realm_access.roles`, a list in which
 * `manager` wins over `customer`.
 */
function fromClaims(
  claims: JWTPayload,
  roleClaim: string,
  customerIdClaim: string,
): Principal | undefined {
  const rawRole = claimAt(claims, roleClaim);
  const roles = Array.isArray(rawRole) ? rawRole : [rawRole];
  const role: UserRole | undefined = roles.includes('manager')
    ? 'manager'
    : roles.includes('customer')
      ? 'customer'
      : undefined;
  const rawCustomerId = claimAt(claims, customerIdClaim);
  const customerId = typeof rawCustomerId === 'string' ? rawCustomerId : undefined;
  if (!claims.sub || !role) return undefined;
  if (role === 'customer' && !customerId) return undefined;
  return { username: claims.sub, role, customerId: role === 'customer' ? customerId : undefined };
}

function claimAt(claims: JWTPayload, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      claims,
    );
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
