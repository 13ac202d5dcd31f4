import net from 'node:net';

export interface TcpRelay {
  port: number;
  /** Connections accepted since the relay started: each one is a connection the client opened. */
  readonly opened: number;
  /** Cuts every open connection and refuses new ones, as a server that went away. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /** Stops forwarding bytes, keeping every connection open: a server that hangs (SIGSTOP). */
  pause(): void;
  /** Forwards again, delivering what was held back. */
  resume(): void;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:<port> to a real server, counting connections. Placed in front of MySQL it
 * tells exactly how many connections one service graph opens, which the server's own counters
 * cannot while other test files share it.
 */
export async function startTcpRelay(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpRelay> {
  const sockets = new Set<net.Socket>();
  let opened = 0;
  let paused = false;
  const server = net.createServer((client) => {
    opened++;
    const upstream = net.connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined); // the 'close' below ends the pair
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
    if (paused) {
      client.pause();
      upstream.pause();
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const shut = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  await listen(0);
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    get opened() {
      return opened;
    },
    cut: shut,
    pause() {
      paused = true;
      for (const socket of sockets) socket.pause();
    },
    resume() {
      paused = false;
      for (const socket of sockets) socket.resume();
    },
    restore: async () => {
      if (!server.listening) await listen(port);
    },
    close: shut,
  };
}
