import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'enc1:';

/**
 * Seals webhook signing secrets with AES-256-GCM under a key from config, bound to their row
 * (`context`) so a sealed value copied to another row does not open. Without a key values are
 * kept as they are; a sealed value then cannot be read, and says which variable is missing.
 */
export function createSecretBox(key: string | undefined) {
  const aesKey = key ? createHash('sha256').update(key).digest() : undefined;

  function seal(plain: string, context: string): string {
    if (!aesKey) return plain;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
  }

  function open(stored: string, context: string): string {
    if (!stored.startsWith(PREFIX)) return stored;
    if (!aesKey) throw new Error('a webhook secret is encrypted and WEBHOOK_SECRET_KEY is unset');
    const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', aesKey, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  return { seal, open };
}

export type SecretBox = ReturnType<typeof createSecretBox>;
