import { apiKeyId, generateApiKey, hashApiKey, looksLikeApiKey } from '../../src/domain/api-key';

describe('API key format', () => {
  it('is osk_, a 16-hex id and 40 base62 characters, with a hint that holds no secret', () => {
    const key = generateApiKey();
    expect(key.key).toMatch(/^osk_[0-9a-f]{16}_[A-Za-z0-9]{40}$/);
    expect(key.key.startsWith(`${key.prefix}_`)).toBe(true);
    expect(key.prefix).toBe(`osk_${key.id}`);
    expect(key.last4).toBe(key.key.slice(-4));
    expect(key.hash).toBe(hashApiKey(key.key));
    expect(key.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('draws every key anew', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().key));
    expect(keys.size).toBe(1000);
  });

  it('reads the id of a well-formed key only', () => {
    const { key, id } = generateApiKey();
    expect(apiKeyId(key)).toBe(id);
    expect(looksLikeApiKey(key)).toBe(true);
    for (const bad of [
      `${key}x`,
      key.slice(0, -1),
      key.replace('osk_', 'OSK_'),
      key.replace(/_([A-Za-z0-9]{40})$/, '-$1'),
      `osk_${'G'.repeat(16)}_${'a'.repeat(40)}`,
      '',
    ]) {
      expect(apiKeyId(bad)).toBeUndefined();
    }
  });
});
