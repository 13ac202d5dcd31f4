/*
 * A throwaway Galera cluster of local `mariadbd` processes for tests.
 *
 * Every node listens on 127.0.0.1 only, on free ports picked at start: the client port, the
 * group-communication port (gmcast), the IST port and the SST (rsync) port. Each node has its
 * own data directory under one temp dir, which stop() removes. Node 1 is initialised with
 * mariadb-install-db and bootstraps the cluster (--wsrep-new-cluster); nodes 2..n start with an
 * empty data directory and receive node 1's by rsync SST, including its root user.
 *
 * Needs (Debian/Ubuntu): mariadb-server galera-4 rsync iproute2 (the SST script looks for a
 * listening socket with `ss`, or `lsof`). When run as root, mariadbd runs as user `mysql` (the
 * rsync SST fails with "Permission denied" otherwise) and the directories are chowned to it;
 * as any other user, everything runs as that user.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';

export const GALERA_PROVIDER = process.env.GALERA_PROVIDER ?? '/usr/lib/galera/libgalera_smm.so';
const MARIADBD = process.env.MARIADBD ?? 'mariadbd';
const INSTALL_DB = process.env.MARIADB_INSTALL_DB ?? 'mariadb-install-db';
const DEBIAN_PACKAGES = 'mariadb-server galera-4 rsync iproute2';

export interface GaleraNode {
  /** 1-based, as in the test's prose ("node 2"). */
  readonly index: number;
  /** Client port; gmcast is group communication, ist/sst the state transfer ports. */
  readonly port: number;
  readonly gmcastPort: number;
  readonly istPort: number;
  readonly sstPort: number;
  readonly dir: string;
  /** mysql://root@127.0.0.1:<port>/<database> */
  url(database?: string): string;
  /** The running mariadbd process, undefined after kill() or stop(). */
  process?: ChildProcess;
}

export interface NodeStatus {
  clusterSize: number;
  ready: boolean;
  state: string; // wsrep_local_state_comment: Synced, Donor/Desynced, Joining, ...
  clusterStatus: string; // wsrep_cluster_status: Primary or non-Primary
}

export interface GaleraCluster {
  readonly nodes: GaleraNode[];
  node(index: number): GaleraNode;
  /** Runs one statement on one node over a fresh connection (no pool, no wsrep_sync_wait). */
  query<T = Record<string, unknown>>(index: number, sql: string, params?: unknown[]): Promise<T[]>;
  status(index: number): Promise<NodeStatus>;
  /** Waits until every running node reports this cluster size, Primary, Synced and ready. */
  waitForSize(size: number, timeoutMs?: number): Promise<void>;
  /** SIGKILL: no clean shutdown, the others must notice by timeout. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again; it rejoins by IST or SST. Waits until it is synced. */
  restart(index: number, timeoutMs?: number): Promise<void>;
  /** The last lines of a node's error log, for failure messages. */
  logTail(index: number, lines?: number): string;
  /** Stops every node (SIGTERM, then SIGKILL) and removes the temp directory. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  size?: number;
  /** Extra mariadbd options for every node, e.g. ['--wsrep-mode=REQUIRED_PRIMARY_KEY']. */
  extraArgs?: string[];
  startTimeoutMs?: number;
}

/** Why a Galera cluster cannot run here, or undefined when the binaries are in place. */
export function galeraUnavailableReason(): string | undefined {
  if (!existsSync(GALERA_PROVIDER)) return `no Galera provider at ${GALERA_PROVIDER}`;
  for (const bin of [MARIADBD, INSTALL_DB, 'rsync', 'wsrep_sst_rsync']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not on PATH`;
    }
  }
  return undefined;
}

export async function startCluster(options: ClusterOptions = {}): Promise<GaleraCluster> {
  const { size = 3, extraArgs = [], startTimeoutMs = 60_000 } = options;
  const unavailable = galeraUnavailableReason();
  if (unavailable) {
    throw new Error(`Galera tests need: apt-get install -y ${DEBIAN_PACKAGES} (${unavailable})`);
  }

  const owner = process.getuid?.() === 0 ? mysqlUser() : undefined;
  const base = await mkdtemp(join(tmpdir(), 'galera-'));
  await chmod(base, 0o755); // mysql must be able to reach its data directory
  const ports = await freePorts(size * 4);
  const nodes: GaleraNode[] = [];
  for (let i = 0; i < size; i++) {
    const [port, gmcastPort, istPort, sstPort] = ports.slice(i * 4, i * 4 + 4) as number[];
    const dir = join(base, `node${i + 1}`);
    await mkdir(join(dir, 'data'), { recursive: true });
    nodes.push({
      index: i + 1,
      port: port!,
      gmcastPort: gmcastPort!,
      istPort: istPort!,
      sstPort: sstPort!,
      dir,
      url: (database = '') => `mysql://root@127.0.0.1:${port}/${database}`,
    });
  }
  if (owner) await chownTree(base, owner, nodes);
  const clusterAddress = 'gcomm://' + nodes.map((n) => `127.0.0.1:${n.gmcastPort}`).join(',');

  function args(node: GaleraNode, bootstrap: boolean): string[] {
    const { gmcastPort: gmcast, istPort: ist, sstPort: sst } = node;
    return [
      '--no-defaults', // ignore /etc/mysql/my.cnf: it belongs to the server on :3306
      ...(owner ? ['--user=mysql'] : []),
      `--datadir=${join(node.dir, 'data')}`,
      `--socket=${join(node.dir, 'mysqld.sock')}`,
      `--pid-file=${join(node.dir, 'mysqld.pid')}`,
      `--log-error=${join(node.dir, 'error.log')}`,
      `--port=${node.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--wsrep-on=ON',
      `--wsrep-provider=${GALERA_PROVIDER}`,
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
      '--innodb-flush-log-at-trx-commit=1',
      '--wsrep-cluster-name=order-service-test',
      `--wsrep-node-name=node${node.index}`,
      `--wsrep-node-address=127.0.0.1:${gmcast}`,
      `--wsrep-cluster-address=${clusterAddress}`,
      `--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:${gmcast};ist.recv_addr=127.0.0.1:${ist};gcache.size=64M`,
      `--wsrep-sst-receive-address=127.0.0.1:${sst}`,
      '--wsrep-sst-method=rsync',
      ...extraArgs,
      ...(bootstrap ? ['--wsrep-new-cluster'] : []),
    ];
  }

  function launch(node: GaleraNode, bootstrap: boolean): void {
    const child = spawn(MARIADBD, args(node, bootstrap), { stdio: 'ignore' });
    node.process = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
  }

  async function connect(index: number) {
    return mysql.createConnection({
      host: '127.0.0.1',
      port: node(index).port,
      user: 'root',
      connectTimeout: 3000,
    });
  }

  function node(index: number): GaleraNode {
    const n = nodes[index - 1];
    if (!n) throw new Error(`no node ${index}`);
    return n;
  }

  async function query<T>(index: number, sql: string, params: unknown[] = []): Promise<T[]> {
    const conn = await connect(index);
    try {
      const [rows] = await conn.query(sql, params);
      return rows as T[];
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  }

  async function status(index: number): Promise<NodeStatus> {
    const rows = await query<{ Variable_name: string; Value: string }>(
      index,
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_ready', " +
        "'wsrep_local_state_comment', 'wsrep_cluster_status')",
    );
    const v = Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
    return {
      clusterSize: Number(v.wsrep_cluster_size ?? 0),
      ready: v.wsrep_ready === 'ON',
      state: v.wsrep_local_state_comment ?? '',
      clusterStatus: v.wsrep_cluster_status ?? '',
    };
  }

  /** Polls until `ok` holds for the node, failing fast if its process exits. */
  async function waitForNode(
    index: number,
    ok: (s: NodeStatus) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const n = node(index);
      if (!n.process || n.process.exitCode !== null || n.process.signalCode !== null) {
        throw new Error(`node ${index} is not running (waiting for ${what}):\n${logTail(index)}`);
      }
      try {
        const s = await status(index);
        if (ok(s)) return;
        last = JSON.stringify(s);
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `node ${index}: timed out waiting for ${what}; last: ${last}\n${logTail(index)}`,
        );
      }
      await sleep(250);
    }
  }

  const synced = (size: number) => (s: NodeStatus) =>
    s.clusterSize === size && s.ready && s.state === 'Synced' && s.clusterStatus === 'Primary';

  async function waitForSize(size: number, timeoutMs = 30_000): Promise<void> {
    const alive = nodes.filter(
      (n) => n.process && n.process.exitCode === null && !n.process.signalCode,
    );
    for (const n of alive)
      await waitForNode(n.index, synced(size), `cluster size ${size}`, timeoutMs);
  }

  function logTail(index: number, lines = 30): string {
    try {
      const text = readFileSync(join(node(index).dir, 'error.log'), 'utf8');
      return text.split('\n').slice(-lines).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  async function kill(index: number): Promise<void> {
    const child = node(index).process;
    node(index).process = undefined;
    if (child) await terminate(child, 'SIGKILL', 5000);
  }

  async function restart(index: number, timeoutMs = 60_000): Promise<void> {
    const n = node(index);
    if (n.process) throw new Error(`node ${index} is still running`);
    launch(n, false);
    await waitForNode(index, synced(nodes.length), 'rejoin', timeoutMs);
  }

  async function stop(): Promise<void> {
    await Promise.all(
      nodes.map(async (n) => {
        const child = n.process;
        n.process = undefined;
        if (child) await terminate(child, 'SIGTERM', 15_000);
      }),
    );
    await rm(base, { recursive: true, force: true });
  }

  const cluster: GaleraCluster = {
    nodes,
    node,
    query,
    status,
    waitForSize,
    kill,
    restart,
    logTail,
    stop,
  };
  try {
    await install(nodes[0]!, owner);
    launch(nodes[0]!, true);
    await waitForNode(1, synced(1), 'bootstrap', startTimeoutMs);
    for (const n of nodes.slice(1)) launch(n, false);
    await waitForSize(size, startTimeoutMs);
    return cluster;
  } catch (err) {
    const logs = nodes.map((n) => `--- node ${n.index} error.log ---\n${logTail(n.index, 15)}`);
    await stop().catch(() => undefined);
    (err as Error).message += '\n' + logs.join('\n');
    throw err;
  }
}

/**
 * A root user that may connect over TCP from 127.0.0.1 without a password: the "normal"
 * authentication method creates root@localhost, root@127.0.0.1 and root@::1 with no password
 * (the default, "socket", only lets the OS root user in through the Unix socket).
 */
async function install(node: GaleraNode, owner: Owner | undefined): Promise<void> {
  const cmd = [
    '--no-defaults',
    ...(owner ? ['--user=mysql'] : []),
    `--datadir=${join(node.dir, 'data')}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(INSTALL_DB, cmd, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${INSTALL_DB} exited with ${code}:\n${output}`));
    });
  });
}

interface Owner {
  uid: number;
  gid: number;
}

function mysqlUser(): Owner {
  const uid = Number(execFileSync('id', ['-u', 'mysql']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'mysql']).toString().trim());
  return { uid, gid };
}

async function chownTree(base: string, owner: Owner, nodes: GaleraNode[]): Promise<void> {
  await chown(base, owner.uid, owner.gid);
  for (const n of nodes) {
    await chown(n.dir, owner.uid, owner.gid);
    await chown(join(n.dir, 'data'), owner.uid, owner.gid);
  }
}

/** Ports the kernel hands out for port 0, released again; distinct from each other. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Signals a process and waits for it to exit, escalating to SIGKILL after `graceMs`. */
async function terminate(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** If the test process dies without stop(), do not leave mariadbd processes behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads a file written by a node (e.g. its general log), as text. */
export async function readNodeFile(node: GaleraNode, name: string): Promise<string> {
  return readFile(join(node.dir, 'data', name), 'utf8');
}
