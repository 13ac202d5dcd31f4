import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createTestDatabase, dropDatabase, JWT_SECRET, REDIS_URL } from '../helpers/harness';
import { freePort } from '../helpers/processes';
import { runMain } from '../helpers/service-process';

/* Start-up failures a newcomer or an operator must read at a glance: one line, no stack. */
let databaseUrl: string;
beforeAll(async () => {
  databaseUrl = await createTestDatabase();
});
afterAll(async () => dropDatabase(databaseUrl));

const linesOf = (...outputs: string[]) => outputs.join('\n').split('\n').filter(Boolean);

describe('a port that is already taken', () => {
  let blocker: net.Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => blocker?.close(resolve) ?? resolve(undefined));
  });

  it.each(['PORT', 'METRICS_PORT'])(
    'in %s stops the process with exit 78 and one line naming the variable and port',
    async (variable) => {
      const taken = await freePort();
      blocker = net.createServer();
      // No host, like the service itself: every address, IPv4 and IPv6.
      await new Promise<void>((resolve) => blocker!.listen(taken, resolve));
      const result = await runMain(['all'], {
        DATABASE_URL: databaseUrl,
        REDIS_URL,
        JWT_SECRET,
        PORT: String(await freePort()),
        METRICS_PORT: String(await freePort()),
        [variable]: String(taken),
      });
      expect(result.code).toBe(78);
      const lines = linesOf(result.stdout, result.stderr);
      expect(lines.filter((l) => l.includes(String(taken)))).toEqual([
        `order-service: ${variable} ${taken} is already in use`,
      ]);
      expect(lines.filter((l) => /^\s+at /.test(l))).toEqual([]);
    },
  );
});

describe('an error nothing handled', () => {
  const ROOT = path.resolve(__dirname, '../..');
  function runWithHandlers(fault: string) {
    const script = `
      const { createLogger } = require('./src/lib/logger.ts');
      const { exitOnUncaughtErrors } = require('./src/lib/fatal-errors.ts');
      exitOnUncaughtErrors(createLogger('info'));
      setTimeout(() => { ${fault} }, 10);
      setTimeout(() => console.log('still running'), 2000);`;
    return spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  }

  it.each([
    ['an uncaught exception', "throw new Error('boom')"],
    ['an unhandled rejection', "Promise.reject(new Error('boom'))"],
  ])('(%s) is logged as one JSON error line and the process exits 1', (_what, fault) => {
    const result = runWithHandlers(fault);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('');
    const lines = linesOf(result.stdout);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', error: 'boom' });
  });
});
