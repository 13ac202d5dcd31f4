import { hash, randomBytes, randomInt } from 'node:crypto';

/**
 * `osk_<id>_<secret>`: a fixed prefix secret scanners can match (GitHub's `ghp_`, Stripe's
 * `sk_`), the key's id (16 hex, its primary key: a lookup, never a scan) and 40 base62
 * characters of secret (238 bits). Only SHA-256 of the whole key is stored: the secret is
 * random, so a password hash would add cost and no safety.
 */
export const API_KEY_PREFIX = 'osk_';
const ID_BYTES = 8;
const SECRET_LENGTH = 40;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const FORMAT = /^osk_([0-9a-f]{16})_([A-Za-z0-9]{40})$/;

/** How a presented key was judged: the label values of api_key_authentications_total. */
export const API_KEY_RESULTS = ['ok', 'invalid', 'expired', 'revoked'] as const;
export type ApiKeyResult = (typeof API_KEY_RESULTS)[number];

export interface NewApiKey {
  id: string;
  /** Shown to the client once, never stored. */
  key: string;
  hash: string;
  /** Non-secret: what a listing shows so people can tell their keys apart. */
  prefix: string;
  last4: string;
}

export function generateApiKey(): NewApiKey {
  const id = randomBytes(ID_BYTES).toString('hex');
  let secret = '';
  while (secret.length < SECRET_LENGTH) secret += BASE62[randomInt(BASE62.length)];
  const key = `${API_KEY_PREFIX}${id}_${secret}`;
  return { id, key, hash: hashApiKey(key), ...hintOf(id, secret) };
}

/** The id of a well-formed key, or undefined: anything else is not looked up at all. */
export function apiKeyId(key: string): string | undefined {
  return FORMAT.exec(key)?.[1];
}

export function looksLikeApiKey(text: string): boolean {
  return text.startsWith(API_KEY_PREFIX);
}

export function hashApiKey(key: string): string {
  return hash('sha256', key);
}

function hintOf(id: string, secret: string) {
  return { prefix: `${API_KEY_PREFIX}${id}`, last4: secret.slice(-4) };
}
