import { execFile, spawn, ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, dropDatabase, JWT_SECRET, waitUntil } from '../helpers/harness';
import { freePort, startRedis, stop, waitForPort } from '../helpers/processes';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

/** The runtime stage's COPY instructions, as `source -> destination`. */
function runtimeCopies(): string[] {
  const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const runtime = dockerfile
    .split(/^FROM /m)
    .find((stage) => /AS runtime/.test(stage.split('\n')[0]!))!;
  return [...runtime.matchAll(/^COPY\s+(.+)$/gm)].map((m) => m[1]!.trim());
}

/*
 * No Docker engine runs here, so this rebuilds the production stage's file set by hand — the
 * same COPY list, a production-only `npm ci`, nothing from the source tree but what the image
 * has — and boots it against real MySQL and Redis.
 */
describe('the production image file set', () => {
  let dir: string;
  let databaseUrl: string;
  let redis: ChildProcess;
  let api: ChildProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'order-service-image-'));
    databaseUrl = await createTestDatabase();
    const redisPort = await freePort();
    redis = await startRedis(redisPort);
    env = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      JWT_SECRET,
      NODE_ENV: 'production',
    };
  }, 60_000);

  afterAll(async () => {
    if (api) await stop(api, 'SIGTERM');
    await stop(redis);
    await dropDatabase(databaseUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  it('declares in engines the Node line the Dockerfile pins (and CI tests)', () => {
    const pinned = /^ARG NODE_IMAGE=node:(\d+)\.(\d+)\.(\d+)-/m.exec(
      readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'),
    );
    const { engines } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const range = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(engines.node);
    expect(pinned).not.toBeNull();
    expect(range).not.toBeNull();
    const [major, minor] = [Number(pinned![1]), Number(pinned![2])];
    expect(major).toBe(Number(range![1]));
    expect(minor).toBeGreaterThanOrEqual(Number(range![2]));
  });

  it('copies exactly package.json, api/, production node_modules and dist/', () => {
    expect(runtimeCopies()).toEqual([
      'package.json ./',
      'api ./api',
      '--from=prod-deps /app/node_modules ./node_modules',
      '--from=build /app/dist ./dist',
    ]);
  });

  it('migrates and serves /readyz with production dependencies only', async () => {
    cpSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    cpSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
    cpSync(path.join(ROOT, 'api'), path.join(dir, 'api'), { recursive: true });
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', path.join(dir, 'dist')], {
      cwd: ROOT,
    });
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      timeout: 240_000,
    });
    rmSync(path.join(dir, 'package-lock.json'));
    expect(existsSync(path.join(dir, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules/jest'))).toBe(false);

    const migrate = await run(process.execPath, ['dist/main.js', 'migrate'], { cwd: dir, env });
    expect(migrate.stdout).toMatch(/migrations applied/);

    const port = await freePort();
    api = spawn(process.execPath, ['dist/main.js', 'api'], {
      cwd: dir,
      env: { ...env, PORT: String(port), METRICS_PORT: String(await freePort()) },
      stdio: 'ignore',
    });
    await waitForPort(port, 30_000);
    const ready = await waitUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        return res.status === 200 && res.json();
      },
      { timeoutMs: 30_000, what: '/readyz' },
    );
    expect(ready).toEqual({ status: 'ok', checks: { mysql: 'ok', redis: 'ok' } });
    const doc = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    expect(doc.status).toBe(200);
  }, 300_000);
});
