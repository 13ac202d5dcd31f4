import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/**
 * Requests in flight die with the process: some orders are committed but never answered, some
 * answered but never enqueued. The reconciler must finish both. The new process takes the same
 * port, as a restarted pod behind its Service; connection errors are expected while it is down.
 */
export const apiKill: Scenario = {
  name: 'api-kill',
  description: 'api SIGKILLed under load, restarted on the same port 3 s later',
  needs: 'mysql',
  allow: { conn: true },
  async run(ctx) {
    const [api] = await ctx.startAll([
      { role: 'api', name: 'api-1' },
      { role: 'worker', name: 'worker-1' },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault('SIGKILL api-1, start api-2 on its ports after 3 s', async () => {
      await ctx.untilRequestInFlight();
      await api!.kill();
      await sleep(3000);
      await ctx.startAll([
        { role: 'api', name: 'api-2', ports: { port: api!.port, metricsPort: api!.metricsPort } },
      ]);
    });
    await sleep(AFTER_FAULT_MS);
  },
};
