import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario } from '../scenario';
import { sleep } from '../servers';

/** Without persistence every queued job is gone: only the reconciler can bring them back. */
export const redisRestart: Scenario = {
  name: 'redis-restart',
  description: 'Redis SIGKILLed with jobs waiting, restarted empty 2 s later while orders flow',
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
    await ctx.fault(
      'SIGKILL redis-server with a backlog, start it again empty after 2 s',
      async () => {
        await ctx.redis.kill();
        resume();
        await sleep(2000);
        await ctx.redis.start();
      },
    );
    await sleep(AFTER_FAULT_MS);
  },
};
