import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/**
 * Every pooled connection breaks at once and MySQL stays away for 20 s, about what a database
 * pod takes to be rescheduled, longer than a job's five attempts (1+2+4+8 s of backoff); crash
 * recovery must keep every committed order.
 */
export const mysqlRestart: Scenario = {
  name: 'mysql-restart',
  description: 'MySQL SIGKILLed with jobs waiting, started again 20 s later (crash recovery)',
  needs: 'mysql',
  allow: { unavailable: true },
  async run(ctx) {
    const [api, worker] = await ctx.startAll([
      { role: 'api', name: 'api-1' },
      { role: 'worker', name: 'worker-1' },
    ]);
    ctx.startLoad(() => [api!.url]);
    await sleep(BEFORE_FAULT_MS);
    const resume = await ctx.buildBacklog(worker!);
    await ctx.fault('SIGKILL mariadbd with a backlog, start it again after 20 s', async () => {
      await ctx.mysql.kill();
      resume();
      await sleep(20_000);
      await ctx.mysql.start();
    });
    await sleep(AFTER_FAULT_MS);
  },
};
