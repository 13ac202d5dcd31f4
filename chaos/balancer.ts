/*
 * A stand-in for a Kubernetes Service in front of api pods (kube-proxy + EndpointSlices):
 * each new TCP connection goes to the next ready endpoint, round robin; a connection stays on
 * its pod for its whole life, even after the pod left the endpoints (conntrack keeps it), so
 * keep-alive clients go on sending to a terminating pod on the connections they hold. An
 * endpoint leaves when its readiness probe fails (polled every second) or, for a terminating
 * pod, after the endpoint-propagation delay that races SIGTERM in a real cluster. FIN and RST
 * are passed through, as NAT would.
 */
import net from 'node:net';
import type { ServiceProcess } from './service';
import { sleep } from './servers';

interface Endpoint {
  service: ServiceProcess;
  ready: boolean;
  removed: boolean;
}

export interface Balancer {
  readonly url: string;
  add(service: ServiceProcess): void;
  /** The pod is terminating: it leaves the endpoints after `propagationMs`. */
  remove(service: ServiceProcess, propagationMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startBalancer(probeIntervalMs = 1000): Promise<Balancer> {
  const endpoints: Endpoint[] = [];
  const sockets = new Set<net.Socket>();
  let turn = 0;
  let closed = false;

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const eligible = endpoints.filter((e) => e.ready && !e.removed);
    const endpoint = eligible[turn++ % Math.max(eligible.length, 1)];
    if (!endpoint) {
      client.resetAndDestroy(); // no endpoints: kube-proxy rejects the connection
      return;
    }
    const upstream = net.connect({
      port: endpoint.service.port,
      host: '127.0.0.1',
      allowHalfOpen: true,
    });
    relay(client, upstream, sockets);
  });

  async function probe(): Promise<void> {
    while (!closed) {
      await Promise.all(
        endpoints.map(async (e) => {
          e.ready = e.service.alive && (await e.service.ready());
        }),
      );
      await sleep(probeIntervalMs);
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const probing = probe();
  return {
    url: `http://127.0.0.1:${port}`,
    add(service) {
      endpoints.push({ service, ready: false, removed: false });
    },
    async remove(service, propagationMs) {
      await sleep(propagationMs);
      for (const e of endpoints) if (e.service === service) e.removed = true;
    },
    async close() {
      closed = true;
      await probing;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

/** Pipes both ways; an end is passed on as FIN, an error (RST) as RST. */
function relay(client: net.Socket, upstream: net.Socket, sockets: Set<net.Socket>): void {
  for (const [a, b] of [
    [client, upstream],
    [upstream, client],
  ] as const) {
    sockets.add(a);
    a.pipe(b);
    a.on('error', () => {
      if (!b.destroyed) b.resetAndDestroy();
    });
    a.on('close', () => {
      sockets.delete(a);
      // Both halves done on one side: nothing more can flow to the other.
      if (!b.destroyed && a.readableEnded && a.writableFinished) b.end();
    });
  }
}
