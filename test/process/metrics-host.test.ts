import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { JWT_SECRET } from '../helpers/harness';
import { freePort, stop, waitForPort } from '../helpers/processes';
import { startMain } from '../helpers/service-process';

/*
 * Where the metrics listener binds. All of 127.0.0.0/8 is loopback on Linux, so a listener on
 * 127.0.0.1 alone refuses 127.0.0.2 while one on every address accepts it. MySQL and Redis are
 * left unreachable: the listener opens before the process waits for them.
 */
describe('the metrics listener', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    if (child) await stop(child, 'SIGTERM');
    child = undefined;
  });

  async function startApi(env: Record<string, string>): Promise<number> {
    const metricsPort = await freePort();
    child = startMain(['api'], {
      JWT_SECRET,
      PORT: String(await freePort()),
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/orders`,
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      ...env,
    });
    await waitForPort(metricsPort, 30_000);
    return metricsPort;
  }

  it('binds only METRICS_HOST when it is set', async () => {
    const port = await startApi({ METRICS_HOST: '127.0.0.1' });
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    expect(await accepts('127.0.0.2', port)).toBe(false);
  });

  it('binds every address by default', async () => {
    const port = await startApi({});
    expect(await accepts('127.0.0.2', port)).toBe(true);
  });
});

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
