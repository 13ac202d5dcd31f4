import {
  createAddressGuard,
  isRefusedAddress,
  unmapped,
} from '../../src/data-access/webhook-address-guard';
import { attemptsWithin, DEFAULT_RETRY, retryDelay } from '../../src/domain/webhook-retry';
import { signatureHeader, signingSecrets, WebhookEndpoint } from '../../src/domain/webhook';
import { verifySignature } from '../helpers/webhook-receiver';

describe('webhook address policy', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '0:0:0:0:0:ffff:10.0.0.1',
    '64:ff9b::7f00:1',
  ])('refuses %s', (address) => {
    expect(isRefusedAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111'])('accepts %s', (a) => {
    expect(isRefusedAddress(a)).toBe(false);
  });

  it('reads IPv4-mapped IPv6 addresses as the IPv4 address they carry', () => {
    expect(unmapped('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(unmapped('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(unmapped('2001:db8::1')).toBe('2001:db8::1');
  });

  it('refuses http unless allowed, and URLs with credentials', async () => {
    const strict = createAddressGuard({ allowHttp: false, allowed: [] });
    await expect(strict.check('http://93.184.216.34/')).rejects.toThrow('must be an https URL');
    await expect(strict.check('ftp://93.184.216.34/')).rejects.toThrow('https');
    await expect(strict.check('https://u:p@93.184.216.34/')).rejects.toThrow('credentials');
    await expect(strict.check('https://93.184.216.34/')).resolves.toMatchObject({
      address: '93.184.216.34',
      family: 4,
    });
  });

  it('lets an allow-list entry (CIDR or host name) reach a private address', async () => {
    const cidr = createAddressGuard({ allowHttp: true, allowed: ['10.1.0.0/16'] });
    await expect(cidr.check('http://10.1.2.3/')).resolves.toMatchObject({ address: '10.1.2.3' });
    await expect(cidr.check('http://10.2.0.1/')).rejects.toThrow('resolves to 10.2.0.1');
    const named = createAddressGuard({ allowHttp: true, allowed: ['localhost'] });
    await expect(named.check('http://localhost/')).resolves.toBeDefined();
  });

  it('trusts an allow-listed host name at registration even before it resolves', async () => {
    const guard = createAddressGuard({ allowHttp: false, allowed: ['hooks.invalid'] });
    await expect(guard.checkRegistration('https://hooks.invalid/x')).resolves.toBeUndefined();
    await expect(guard.check('https://hooks.invalid/x')).rejects.toThrow('does not resolve');
    const strict = createAddressGuard({ allowHttp: false, allowed: [] });
    await expect(strict.checkRegistration('https://other.invalid/x')).rejects.toThrow(
      'does not resolve',
    );
  });
});

describe('webhook signatures and retries', () => {
  it('signs "<t>.<body>" with each secret, verifiable by either', () => {
    const header = signatureHeader(['whsec_new', 'whsec_old'], '{"a":1}', 1_800_000_000);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    for (const secret of ['whsec_new', 'whsec_old']) {
      expect(verifySignature(header, '{"a":1}', secret, 300, 1_800_000_010)).toBe(true);
    }
    expect(verifySignature(header, '{"a":2}', 'whsec_new', 300, 1_800_000_010)).toBe(false);
    expect(verifySignature(header, '{"a":1}', 'whsec_new', 300, 1_800_001_000)).toBe(false);
  });

  it('signs with the previous secret only until its grace period ends', () => {
    const at = new Date('2026-12-01T12:00:00Z');
    const endpoint = {
      secret: 'whsec_new',
      previous_secret: 'whsec_old',
      previous_secret_expires_at: new Date(at.getTime() + 1000),
    } as WebhookEndpoint;
    expect(signingSecrets(endpoint, at)).toEqual(['whsec_new', 'whsec_old']);
    expect(signingSecrets(endpoint, new Date(at.getTime() + 1000))).toEqual(['whsec_new']);
    expect(signingSecrets({ ...endpoint, previous_secret: null }, at)).toEqual(['whsec_new']);
  });

  it('retries with jittered exponential delays for up to three days by default', () => {
    const attempts = attemptsWithin(DEFAULT_RETRY);
    let worst = 0;
    for (let retry = 1; retry < attempts; retry++) {
      const d = retryDelay(retry, DEFAULT_RETRY);
      const plain = Math.min(DEFAULT_RETRY.baseMs * 2 ** (retry - 1), DEFAULT_RETRY.capMs);
      expect(d).toBeGreaterThanOrEqual(plain / 2);
      expect(d).toBeLessThanOrEqual(plain);
      worst += plain;
    }
    expect(worst).toBeLessThanOrEqual(3 * 24 * 3600_000);
    expect(worst + DEFAULT_RETRY.capMs).toBeGreaterThan(3 * 24 * 3600_000);
  });
});
