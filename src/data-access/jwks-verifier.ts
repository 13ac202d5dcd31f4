import { createRemoteJWKSet, jwtVerify } from 'jose';
import { CLOCK_TOLERANCE_SECONDS, VerifyExternalToken } from '../domain/authentication';

export interface JwksSettings {
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** How long after fetching the JWKS an unknown `kid` waits before the JWKS is fetched again. */
  cooldownMs?: number;
}

/**
 * Tokens of an external OIDC provider, checked against the keys it publishes at `jwksUrl`;
 * undefined when none is configured. The keys are cached; a token signed with an unknown key
 * id (a rotation) triggers one re-fetch.
 */
export function createJwksVerifier(settings: JwksSettings): VerifyExternalToken | undefined {
  if (!settings.jwksUrl) return undefined;
  const jwks = createRemoteJWKSet(new URL(settings.jwksUrl), {
    cooldownDuration: settings.cooldownMs ?? 30_000,
    cacheMaxAge: 10 * 60_000,
  });
  return (token) =>
    // Asymmetric algorithms only: an HS256 token "signed" with a provider's public key
    // (algorithm confusion) is refused here, and our own secret never verifies it.
    jwtVerify(token, jwks, {
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    })
      .then((r) => r.payload)
      .catch(() => undefined);
}
