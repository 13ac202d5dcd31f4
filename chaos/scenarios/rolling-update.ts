import { startBalancer } from '../balancer';
import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario, ScenarioContext } from '../scenario';
import type { ServiceProcess } from '../service';
import { sleep } from '../servers';

/** kube-proxy learns of a deleted pod this long after the kubelet sent SIGTERM. */
const ENDPOINT_PROPAGATION_MS = 1000;

/**
 * A Deployment rollout (maxSurge 1, maxUnavailable 0) of two api pods behind a Service, then
 * of the worker, with keep-alive clients: each new pod must be ready before an old one gets
 * SIGTERM; the old one leaves the endpoints a second after SIGTERM and keeps the keep-alive
 * connections it has. A rollout must be invisible: every request answered with 2xx, every
 * SIGTERMed process out with exit code 0 within its drain budget.
 */
export const rollingUpdate: Scenario = {
  name: 'rolling-update',
  description: 'two api processes and the worker replaced one by one (SIGTERM) under load',
  needs: 'mysql',
  allow: {},
  async run(ctx) {
    const balancer = await startBalancer();
    ctx.defer(() => balancer.close());
    const [a, b] = await ctx.startAll([
      { role: 'api', name: 'api-a' },
      { role: 'api', name: 'api-b' },
      { role: 'worker', name: 'worker-1' },
    ]);
    const worker = ctx.services.find((s) => s.name === 'worker-1')!;
    balancer.add(a!);
    balancer.add(b!);
    await sleep(1500); // the first readiness probe admits both
    ctx.startLoad(() => [balancer.url]);
    await sleep(BEFORE_FAULT_MS);
    await ctx.fault('roll api-a, api-b, worker-1 to new processes', async () => {
      await replace(ctx, a!, 'api', 'api-a2', (s) => balancer.add(s), balancer.remove);
      await replace(ctx, b!, 'api', 'api-b2', (s) => balancer.add(s), balancer.remove);
      await replace(
        ctx,
        worker,
        'worker',
        'worker-2',
        () => undefined,
        async () => undefined,
      );
    });
    await sleep(AFTER_FAULT_MS);
  },
};

async function replace(
  ctx: ScenarioContext,
  old: ServiceProcess,
  role: 'api' | 'worker',
  name: string,
  admit: (s: ServiceProcess) => void,
  remove: (s: ServiceProcess, propagationMs: number) => Promise<void>,
): Promise<void> {
  const [fresh] = await ctx.startAll([{ role, name }]);
  admit(fresh!);
  await sleep(1500); // a readiness probe period, so the new pod takes connections
  const began = Date.now();
  const leaving = remove(old, ENDPOINT_PROPAGATION_MS);
  const code = await old.terminate(20_000);
  await leaving;
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  ctx.log(`${old.name} exited with ${code ?? old.child.signalCode} after ${seconds} s`);
  if (code !== 0) ctx.fail(`${old.name} exited with ${code ?? old.child.signalCode} on SIGTERM`);
}
