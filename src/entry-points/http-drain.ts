import type http from 'node:http';
import net, { Socket } from 'node:net';

/**
 * A socket idle this long during a drain is closed. A request can sit unparsed in a socket's
 * buffer while the event loop is busy (server.closeIdleConnections() reset such requests), so
 * an idle socket gets this grace: a request arriving on it is still served, with
 * `Connection: close`.
 */
const IDLE_GRACE_MS = 500;
const CHECK_EVERY_MS = 50;

interface Tracked {
  active: Set<http.ServerResponse>;
  idleSince: number;
}

/**
 * Graceful HTTP shutdown: stop accepting connections, answer every request that reached a
 * socket (each with `Connection: close`, so keep-alive sockets end after their response),
 * close idle sockets after a short grace, and resolve when the last socket is gone: about as
 * long as the slowest in-flight request, not the keep-alive timeout.
 */
export function trackForDrain(server: http.Server) {
  const sockets = new Map<Socket, Tracked>();
  let draining = false;

  server.on('connection', (socket: Socket) => {
    sockets.set(socket, { active: new Set(), idleSince: Date.now() });
    socket.once('close', () => sockets.delete(socket));
  });
  // Before the app's own listener, so the header is set before any response can be sent.
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const tracked = sockets.get(req.socket);
    if (!tracked) return;
    tracked.active.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      tracked.active.delete(res);
      tracked.idleSince = Date.now();
    });
  });

  function closeIdle(): void {
    const now = Date.now();
    for (const [socket, tracked] of sockets) {
      if (tracked.active.size === 0 && now - tracked.idleSince >= IDLE_GRACE_MS) socket.destroy();
    }
  }

  return {
    /**
     * Resolves once every connection is closed. For `pauseMs` first the listener keeps
     * accepting (every answer already says `Connection: close`): endpoint removal races
     * SIGTERM, and a connection the load balancer opens after the listener closed is reset.
     */
    async drain(pauseMs = 0): Promise<void> {
      draining = true;
      for (const tracked of sockets.values()) {
        for (const res of tracked.active) {
          if (!res.headersSent) res.setHeader('Connection', 'close');
        }
      }
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      // net.Server's close only stops accepting; http.Server's would also close idle sockets
      // at once, resetting requests that arrived on them but were not parsed yet.
      const closed = new Promise<void>((resolve) =>
        net.Server.prototype.close.call(server, () => resolve()),
      );
      const timer = setInterval(closeIdle, CHECK_EVERY_MS);
      return closed.finally(() => clearInterval(timer));
    },
    /** Ends every connection at once (the drain's deadline passed). */
    destroyAll(): void {
      for (const socket of sockets.keys()) socket.destroy();
    },
  };
}
