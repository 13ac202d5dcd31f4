import { runMain } from '../helpers/service-process';

describe('start-up configuration', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'postgres://x' }, 'DATABASE_URL'],
    [{ TRUST_PROXY: 'true' }, 'TRUST_PROXY'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ ADMIN_USERNAME: 'root' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'x'.repeat(73) }, 'ADMIN_PASSWORD'],
    [{ ADMIN_USERNAME: 'root user', ADMIN_PASSWORD: 'long-enough' }, 'ADMIN_USERNAME'],
  ])('stops with exit 78 and one line naming the variable for %p', async (env, variable) => {
    const result = await runMain(['api'], { JWT_SECRET: 'x'.repeat(32), ...env });
    expect(result.code).toBe(78);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^order-service: invalid configuration: ${variable}: `));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('requires JWT_SECRET for the api role', async () => {
    const result = await runMain(['api'], {});
    expect(result.code).toBe(78);
    expect(result.stderr).toMatch(/JWT_SECRET/);
  });

  it('prints usage and exits 64 for an unknown role', async () => {
    const result = await runMain(['dance'], {});
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(/usage/);
  });
});
