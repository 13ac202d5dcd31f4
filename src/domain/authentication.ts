import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT, JWTPayload } from 'jose';
import { AppError } from '../lib/app-error';
import { BCRYPT_MAX_BYTES, PasswordHasher } from '../lib/password-hasher';
import type { UserRecord, UserRepository } from '../data-access/user-repository';
import type { ApiKeyRepository } from '../data-access/api-key-repository';
import { apiKeyId, ApiKeyResult, hashApiKey } from './api-key';
import type { LoginSubject, LoginThrottle, Refusal } from '../data-access/login-throttle';
import type { Principal, UserRole } from './principal';
import { USERNAME } from './manage-users';

export const TOKEN_ISSUER = 'order-service';
export const TOKEN_TTL_SECONDS = 900;
/** External providers' tokens are refused when they live longer than this. */
export const MAX_EXTERNAL_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 10_000;

/** What a request presents, as its Authorization (or X-API-Key) header says. */
export type Credentials =
  | { scheme: 'basic'; username: string; password: string }
  | { scheme: 'bearer'; token: string }
  | { scheme: 'api-key'; key: string };

/** A principal recognized without hashing; `login` names the failed-login counters to check. */
export interface Recognized {
  principal: Principal;
  login?: LoginSubject;
}

/** The answer to a client or account over its failed-login limit, from every path alike. */
export function loginRefused({ seconds, limit, windowSeconds }: Refusal): AppError {
  return new AppError('rate-limited', 'Too many failed authentications; retry later.', {
    headers: {
      'Retry-After': String(seconds),
      'RateLimit-Policy': `${limit};w=${windowSeconds}`,
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': String(seconds),
    },
  });
}

export interface JwtSettings {
  secret?: string;
  /** Where an external provider puts the role and customer id: a claim name or dotted path. */
  roleClaim: string;
  customerIdClaim: string;
}

/** The claims of an external provider's token whose signature, issuer and audience hold. */
export type VerifyExternalToken = (token: string) => Promise<JWTPayload | undefined>;

/** Tokens may be a little early or late: clocks of issuers and pods drift. */
export const CLOCK_TOLERANCE_SECONDS = 30;

// A bcrypt hash of a random password nobody knows: unknown users are checked against it so
// they take as long as a wrong password.
const DUMMY_HASH = '$2b$10$huk3udFZ9L3yLpM.Nd26t.R42XQfXhtsEybQwocwmR.JWUsxURCzG';

export function createAuthentication(deps: {
  users: UserRepository;
  jwt: JwtSettings;
  hasher: PasswordHasher;
  throttle: LoginThrottle;
  apiKeys: ApiKeyRepository;
  /** Absent when no external provider is configured. */
  verifyExternalToken?: VerifyExternalToken;
  onRateLimited?: () => void;
  onApiKey?: (result: ApiKeyResult) => void;
}) {
  const secret = deps.jwt.secret ? new TextEncoder().encode(deps.jwt.secret) : undefined;
  // Successful verifications, keyed by a SHA-256 of the credentials under a per-process secret
  // (never the password), valid only while the stored hash is unchanged.
  const cacheKey = randomBytes(32).toString('hex');
  const verified = new Map<string, { hash: string; expires: number }>();
  // Concurrent checks of the same credentials share one hash and one throttle slot.
  const checking = new Map<string, Promise<Principal | undefined>>();

  function refuse(refusal: Refusal): never {
    deps.onRateLimited?.();
    throw loginRefused(refusal);
  }

  /**
   * Basic credentials. A client or account over its failed-login limit is refused before any
   * work; otherwise the attempt is counted as failed *before* its hash is checked (and given
   * back on success), so a burst cannot have more guesses evaluated than the limit allows.
   */
  async function verifyPassword(
    username: string,
    password: string,
    ip: string,
  ): Promise<Principal | undefined> {
    const subject: LoginSubject = { ip, account: USERNAME.test(username) ? username : undefined };
    const wait = await deps.throttle.refusal(subject);
    if (wait) refuse(wait);
    const key = credentialsKey(username, password);
    const user = subject.account ? await deps.users.find(username) : undefined;
    if (user && isVerified(key, user)) return toPrincipal(user);
    let pending = checking.get(key);
    if (!pending) {
      pending = check(user, password, subject, key).finally(() => checking.delete(key));
      checking.set(key, pending);
    }
    return pending;
  }

  async function check(
    user: UserRecord | undefined,
    password: string,
    subject: LoginSubject,
    key: string,
  ): Promise<Principal | undefined> {
    const wait = await deps.throttle.reserve(subject);
    if (wait) refuse(wait);
    // bcrypt reads 72 bytes and ignores the rest: a longer password can never be right.
    if (!subject.account || Buffer.byteLength(password) > BCRYPT_MAX_BYTES) return undefined;
    let ok: boolean;
    try {
      ok = await deps.hasher.compare(password, user?.password_hash ?? DUMMY_HASH);
    } catch (err) {
      await deps.throttle.release(subject);
      throw err;
    }
    if (!user || !ok) return undefined;
    await deps.throttle.release(subject);
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.set(key, { hash: user.password_hash, expires: Date.now() + CACHE_TTL_MS });
    return toPrincipal(user);
  }

  function credentialsKey(username: string, password: string): string {
    // A secret prefix and one-shot SHA-256: the key never leaves the process, so this is as
    // good as an HMAC here, at a tenth of createHmac's cost per request.
    return hash('sha256', `${cacheKey}\0${username}\0${password}`);
  }

  function isVerified(key: string, user: UserRecord): boolean {
    const hit = verified.get(key);
    return !!hit && hit.expires > Date.now() && safeEqual(hit.hash, user.password_hash);
  }

  /**
   * The principal behind credentials that need no hashing: a valid token, or Basic credentials
   * verified within the last minute (users are looked up only for those). Counts and refuses
   * nothing: the caller checks the failed-login counters of `login` before trusting Basic.
   * Anything else is undefined, for `verifyPassword` or `verifyToken` to judge.
   */
  async function recognize(credentials: Credentials, ip: string): Promise<Recognized | undefined> {
    if (credentials.scheme === 'api-key') {
      // Only a success is counted here: a failure is judged (and counted) by verifyApiKey.
      const checked = await checkApiKey(credentials.key);
      if (checked.principal) deps.onApiKey?.('ok');
      return checked.principal && { principal: checked.principal };
    }
    if (credentials.scheme === 'bearer') {
      const principal = await verifyEitherToken(credentials.token);
      return principal && { principal };
    }
    const { username, password } = credentials;
    const key = credentialsKey(username, password);
    if (!USERNAME.test(username) || !verified.has(key)) return undefined;
    const user = await deps.users.find(username);
    if (!user || !isVerified(key, user)) return undefined;
    return { principal: toPrincipal(user), login: { ip, account: username } };
  }

  async function issueToken(principal: Principal): Promise<string> {
    if (!secret)
      throw new AppError('forbidden', 'This deployment does not issue tokens (no JWT_SECRET).');
    return new SignJWT({
      role: principal.role,
      customer_id: principal.customerId,
      ver: principal.tokenVersion ?? 0,
    })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(principal.username)
      .setIssuer(TOKEN_ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
      .sign(secret);
  }

  /** The user's current token version (undefined once removed); the repository caches it. */
  async function currentVersion(username: string): Promise<number | undefined> {
    return (await deps.users.find(username))?.token_version;
  }

  /**
   * Our own HS256 tokens first, then (if configured) the external provider's JWKS. A failed
   * token counts toward the client's failed-authentication limit.
   */
  async function verifyToken(token: string, ip: string): Promise<Principal | undefined> {
    const principal = await verifyEitherToken(token);
    if (!principal) await deps.throttle.reserve({ ip });
    return principal;
  }

  /**
   * An API key: one SHA-256 and a cached primary-key lookup, no password hash. Like a bad
   * token, a bad, expired or revoked key counts toward the client's failed-authentication limit.
   */
  async function verifyApiKey(key: string, ip: string): Promise<Principal | undefined> {
    const { principal, result } = await checkApiKey(key);
    deps.onApiKey?.(result);
    if (!principal) await deps.throttle.reserve({ ip });
    return principal;
  }

  async function checkApiKey(
    key: string,
  ): Promise<{ principal?: Principal; result: ApiKeyResult }> {
    const id = apiKeyId(key);
    const record = id ? await deps.apiKeys.find(id) : undefined;
    // The secret first: whether an id exists, or was revoked, is told only to its holder.
    if (!id || !record || !safeEqual(hashApiKey(key), record.key_hash))
      return { result: 'invalid' };
    if (record.revoked_at) return { result: 'revoked' };
    const now = new Date();
    if (record.expires_at && record.expires_at <= now) return { result: 'expired' };
    deps.apiKeys.touch(id, now);
    const principal: Principal = {
      username: `api-key:${id}`,
      role: record.role,
      customerId: record.role === 'customer' ? (record.customer_id ?? undefined) : undefined,
      apiKeyId: id,
    };
    return { principal, result: 'ok' };
  }

  async function verifyEitherToken(token: string): Promise<Principal | undefined> {
    if (secret) {
      const own = await jwtVerify(token, secret, {
        algorithms: ['HS256'],
        issuer: TOKEN_ISSUER,
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      })
        .then((r) => r.payload)
        .catch(() => undefined);
      if (own) {
        if (lifetime(own) > TOKEN_TTL_SECONDS) return undefined;
        // A user replaced (new password or role) or removed since the token was issued.
        if ((await currentVersion(own.sub!)) !== own.ver) return undefined;
        return fromClaims(own, 'role', 'customer_id');
      }
    }
    if (deps.verifyExternalToken) {
      const external = await deps.verifyExternalToken(token);
      if (external && lifetime(external) <= MAX_EXTERNAL_TOKEN_LIFETIME_SECONDS) {
        return fromClaims(external, deps.jwt.roleClaim, deps.jwt.customerIdClaim);
      }
    }
    return undefined;
  }

  return { recognize, verifyPassword, issueToken, verifyToken, verifyApiKey };
}

export type Authentication = ReturnType<typeof createAuthentication>;

/** Seconds from issue (or now, without `iat`) to expiry. */
function lifetime(claims: JWTPayload): number {
  const from = typeof claims.iat === 'number' ? claims.iat : Date.now() / 1000;
  return (claims.exp ?? Infinity) - from;
}

function toPrincipal(user: UserRecord): Principal {
  return {
    username: user.username,
    role: user.role,
    customerId: user.customer_id ?? undefined,
    tokenVersion: user.token_version,
  };
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
