import { createSecretBox } from '../../src/lib/secret-box';

describe('secret box', () => {
  const box = createSecretBox('k'.repeat(32));

  it('seals with a fresh IV each time and opens what it sealed', () => {
    const a = box.seal('whsec_abc', 'we_1');
    const b = box.seal('whsec_abc', 'we_1');
    expect(a).toMatch(/^enc1:/);
    expect(a).not.toBe(b);
    expect(box.open(a, 'we_1')).toBe('whsec_abc');
  });

  it('refuses a value sealed for another row or under another key', () => {
    const sealed = box.seal('whsec_abc', 'we_1');
    expect(() => box.open(sealed, 'we_2')).toThrow();
    expect(() => createSecretBox('j'.repeat(32)).open(sealed, 'we_1')).toThrow();
  });

  it('without a key keeps values as they are, and names the variable for a sealed one', () => {
    const plain = createSecretBox(undefined);
    expect(plain.seal('whsec_abc', 'we_1')).toBe('whsec_abc');
    expect(plain.open('whsec_abc', 'we_1')).toBe('whsec_abc');
    expect(box.open('whsec_abc', 'we_1')).toBe('whsec_abc');
    expect(() => plain.open(box.seal('whsec_abc', 'we_1'), 'we_1')).toThrow('WEBHOOK_SECRET_KEY');
  });
});
