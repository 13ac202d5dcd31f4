/*
 * Private servers for the chaos scenarios, each on free loopback ports in a temp dir, so a
 * scenario may stop, pause or kill them: a mariadbd, a redis-server and an HAProxy in front of
 * the Galera cluster that test/galera/helpers/cluster.ts builds.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, waitForPort } from '../test/helpers/processes';
import { galeraUnavailableReason, GaleraCluster } from '../test/galera/helpers/cluster';

/** What the scenarios need installed, as one apt-get line (printed when something is missing). */
export const APT_PACKAGES = 'mariadb-server galera-4 rsync iproute2 redis-server haproxy';

/** Why the suite cannot run here, or undefined. */
export function missingTools(): string | undefined {
  for (const bin of ['mariadbd', 'mariadb-install-db', 'redis-server', 'haproxy']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not on PATH`;
    }
  }
  return galeraUnavailableReason();
}

/** A server process the scenario controls: signals, restart, a port that stays the same. */
export interface ControlledServer {
  readonly port: number;
  readonly running: boolean;
  /** SIGSTOP / SIGCONT: the process keeps its sockets but answers nothing. */
  pause(): void;
  resume(): void;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(ms, 0)));

/** Signals a process and waits for it to exit, escalating to SIGKILL after `graceMs`. */
export async function terminate(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 10_000,
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a paused process cannot handle SIGTERM
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Every child this process started: killed if the orchestrator dies without cleaning up. */
const children = new Set<ChildProcess>();
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function controlled(port: number, launch: () => Promise<ChildProcess>, cleanup = async () => {}) {
  let child: ChildProcess | undefined;
  const server: ControlledServer = {
    port,
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    kill: async () => {
      await terminate(child, 'SIGKILL');
      child = undefined;
    },
    start: async () => {
      if (server.running) throw new Error(`the server on ${port} is still running`);
      child = track(await launch());
    },
    stop: async () => {
      await terminate(child, 'SIGTERM', 15_000);
      child = undefined;
      await cleanup();
    },
  };
  return server;
}

/** A redis-server without persistence: a restart comes back empty, as in production without AOF. */
export async function startRedisServer(): Promise<ControlledServer> {
  const port = await freePort();
  const server = controlled(port, async () => {
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        ...['--maxmemory-policy', 'noeviction'],
      ],
      { stdio: 'ignore' },
    );
    await waitForPort(port, 10_000);
    return child;
  });
  await server.start();
  return server;
}

export interface Mariadb extends ControlledServer {
  /** mysql://root@127.0.0.1:<port>/<database> */
  url(database?: string): string;
}

/**
 * A mariadbd of our own (not the shared one on :3306), so it can be paused and killed. Durable
 * settings (flush at commit) so a SIGKILL loses nothing that was committed. As root it runs as
 * `mysql`, like cluster.ts, and its directory is chowned to that user.
 */
export async function startMariadb(): Promise<Mariadb> {
  const base = await mkdtemp(join(tmpdir(), 'chaos-mariadb-'));
  await chmod(base, 0o755);
  const data = join(base, 'data');
  await mkdir(data);
  const asMysql = process.getuid?.() === 0;
  if (asMysql) {
    const uid = Number(execFileSync('id', ['-u', 'mysql']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'mysql']).toString().trim());
    await chown(base, uid, gid);
    await chown(data, uid, gid);
  }
  const user = asMysql ? ['--user=mysql'] : [];
  await run('mariadb-install-db', [
    ...['--no-defaults', ...user, `--datadir=${data}`],
    ...['--auth-root-authentication-method=normal', '--skip-test-db'],
  ]);
  const port = await freePort();
  const args = [
    '--no-defaults', // /etc/mysql/my.cnf belongs to the shared server
    ...user,
    `--datadir=${data}`,
    `--socket=${join(base, 'mysqld.sock')}`,
    `--pid-file=${join(base, 'mysqld.pid')}`,
    `--log-error=${join(base, 'error.log')}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=64M',
    '--innodb-flush-log-at-trx-commit=1',
    '--max-connections=500',
  ];
  const server = controlled(
    port,
    async () => {
      const child = spawn('mariadbd', args, { stdio: 'ignore' });
      await waitForMysql(port, 60_000, child);
      return child;
    },
    () => rm(base, { recursive: true, force: true }),
  );
  await server.start();
  return { ...server, url: (database = '') => `mysql://root@127.0.0.1:${port}/${database}` };
}

/** Waits until the server on `port` answers SELECT 1 (after a crash: recovery is done). */
export async function waitForMysql(port: number, timeoutMs: number, child?: ChildProcess) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`mariadbd on ${port} exited with ${child.exitCode ?? child.signalCode}`);
    }
    try {
      const conn = await mysql.createConnection({
        host: '127.0.0.1',
        port,
        user: 'root',
        connectTimeout: 1000,
      });
      await conn.query('SELECT 1');
      await conn.end();
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(200);
  }
  throw new Error(`MySQL on ${port} did not answer within ${timeoutMs} ms: ${last}`);
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const s of [child.stdout, child.stderr]) s.on('data', (d: Buffer) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} exited with ${code}:\n${output}`));
    });
  });
}

export interface Haproxy {
  readonly port: number;
  url(database?: string): string;
  stop(): Promise<void>;
}

/**
 * HAProxy as Percona's pxc-db chart ships it: one writer, the other nodes `backup`, TCP mode.
 * A node is taken out when it stops answering the MySQL handshake (their chart runs a script
 * that also reads wsrep_local_state; the handshake check is what Debian's haproxy has built
 * in), and sessions on a node marked down are cut, as theirs are.
 */
export async function startHaproxy(cluster: GaleraCluster): Promise<Haproxy> {
  // mysql-check logs in as this user (no password, no privileges) to see the server answer.
  await cluster.query(1, "CREATE USER IF NOT EXISTS 'haproxy'@'127.0.0.1'");
  const dir = await mkdtemp(join(tmpdir(), 'chaos-haproxy-'));
  const port = await freePort();
  const servers = cluster.nodes.map(
    (n) =>
      `  server node${n.index} 127.0.0.1:${n.port} check inter 1000 rise 2 fall 2` +
      ' on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions' +
      (n.index === 1 ? '' : ' backup'),
  );
  const config = [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 8h',
    '  timeout server 8h',
    'listen mysql-writer',
    `  bind 127.0.0.1:${port}`,
    '  option mysql-check user haproxy post-41',
    ...servers,
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  // -db: stay in the foreground, so it is our child and dies with us.
  const child = track(spawn('haproxy', ['-db', '-f', file], { stdio: 'ignore' }));
  await waitForPort(port, 10_000);
  return {
    port,
    url: (database = '') => `mysql://root@127.0.0.1:${port}/${database}`,
    stop: async () => {
      await terminate(child, 'SIGTERM', 5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
