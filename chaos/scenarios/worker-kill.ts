import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/** Jobs in flight on the killed worker keep their BullMQ lock until it expires, then rerun. */
export const workerKill: Scenario = {
  name: 'worker-kill',
  description: 'worker SIGKILLed mid-stream, a new one started 3 s later',
  needs: 'mysql',
  allow: {},
  async run(ctx) {
    const [api, worker] = await ctx.startAll([
      { role: 'api', name: 'api-1' },
      { role: 'worker', name: 'worker-1' },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault('SIGKILL worker-1, start worker-2 after 3 s', async () => {
      const active = await ctx.untilJobsActive();
      await worker!.kill();
      ctx.log(`killed with ${active} job(s) active`);
      await sleep(3000);
      await ctx.startAll([{ role: 'worker', name: 'worker-2' }]);
    });
    await sleep(AFTER_FAULT_MS);
  },
};
