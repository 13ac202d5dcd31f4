import { startBalancer } from '../balancer';
import { AFTER_FAULT_MS, BEFORE_FAULT_MS, Scenario, ScenarioContext } from '../scenario';
import type { ServiceProcess } from '../service';
import { sleep } from '../servers';

/** kube-proxy learns of a deleted pod this long after its deletion. */
const ENDPOINT_PROPAGATION_MS = 1000;

/**
 * A Deployment rollout (maxSurge 1, maxUnavailable 0) of two api pods behind a Service, then
 * of the worker, with keep-alive clients, as the chart deploys them: each new pod must be ready
 * before an old one is deleted; the deleted pod leaves the endpoints a second later, gets
 * SIGTERM after its preStop sleep, and keeps the keep-alive connections it has until it closes
 * them. A rollout must be invisible: every request answered with 2xx, every SIGTERMed process
 * out with exit code 0 within its drain budget.
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
    await ctx.fault(
      `roll api-a, api-b (preStop ${ctx.options.apiPreStopMs / 1000} s), worker-1 to new processes`,
      async () => {
        const api = {
          admit: balancer.add,
          remove: balancer.remove,
          preStopMs: ctx.options.apiPreStopMs,
        };
        await replace(ctx, a!, 'api-a2', api);
        await replace(ctx, b!, 'api-b2', api);
        const none = { admit: () => undefined, remove: async () => undefined, preStopMs: 0 };
        await replace(ctx, worker, 'worker-2', none);
      },
    );
    await sleep(AFTER_FAULT_MS);
  },
};

interface Pod {
  admit(s: ServiceProcess): void;
  remove(s: ServiceProcess, propagationMs: number): Promise<void>;
  preStopMs: number;
}

async function replace(
  ctx: ScenarioContext,
  old: ServiceProcess,
  name: string,
  pod: Pod,
): Promise<void> {
  const [fresh] = await ctx.startAll([{ role: old.role, name }]);
  pod.admit(fresh!);
  await sleep(1500); // a readiness probe period, so the new pod takes connections
  // Deletion: endpoint removal and the preStop hook start together; SIGTERM follows the hook.
  const leaving = pod.remove(old, ENDPOINT_PROPAGATION_MS);
  await sleep(pod.preStopMs);
  const began = Date.now();
  const code = await old.terminate(20_000);
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  await leaving;
  ctx.log(`${old.name} exited with ${code ?? old.child.signalCode} ${seconds} s after SIGTERM`);
  if (code !== 0) ctx.fail(`${old.name} exited with ${code ?? old.child.signalCode} on SIGTERM`);
}
