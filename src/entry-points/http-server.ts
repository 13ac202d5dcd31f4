import http from 'node:http';

/**
 * Slow clients cannot hold sockets open: headers must arrive within 20 s and the whole request
 * within 30 s. Keep-alive outlives the 60 s idle timeout of ingress-nginx and nginx, so the
 * proxy, not the app, closes idle upstream connections (no reset on a reused socket).
 */
export const HTTP_TIMEOUTS = {
  headersTimeout: 20_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 65_000,
  connectionsCheckingInterval: 1_000,
};

export function createHttpServer(
  handler: http.RequestListener,
  timeouts: typeof HTTP_TIMEOUTS = HTTP_TIMEOUTS,
): http.Server {
  const server = http.createServer(
    {
      headersTimeout: timeouts.headersTimeout,
      requestTimeout: timeouts.requestTimeout,
      connectionsCheckingInterval: timeouts.connectionsCheckingInterval,
    },
    handler,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeout;
  return server;
}
