import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/** Every pooled connection breaks at once; crash recovery must keep every committed order. */
export const mysqlRestart: Scenario = {
  name: 'mysql-restart',
  description: 'MySQL SIGKILLed under load and started again 3 s later (crash recovery)',
  needs: 'mysql',
  allow: { unavailable: true },
  async run(ctx) {
    const [api] = await ctx.startAll([
      { role: 'api', name: 'api-1' },
      { role: 'worker', name: 'worker-1' },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault('SIGKILL mariadbd, start it again after 3 s', async () => {
      await ctx.mysql.kill();
      await sleep(3000);
      await ctx.mysql.start();
    });
    await sleep(AFTER_FAULT_MS);
  },
};
