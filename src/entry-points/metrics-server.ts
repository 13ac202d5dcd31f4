import http from 'node:http';
import type { Registry } from 'prom-client';

/** /metrics on its own port, so the ingress never routes it. */
export function createMetricsServer(registry: Registry): http.Server {
  return http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      () => res.writeHead(503).end(),
    );
  });
}
