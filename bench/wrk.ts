import { spawn } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.join(__dirname, 'wrk', 'orders.lua');

export interface Load {
  url: string;
  connections: number;
  durationS: number;
  /** Prefix of every order_id this run sends. */
  tag: string;
  /** Orders per request: 1 sends an object, more a JSON array. */
  batch: number;
  authorization?: string;
}

export interface WrkResult {
  durationS: number;
  requests: number;
  ok: number;
  non2xx: number;
  lastNon2xx: number;
  socketErrors: number;
  timeouts: number;
  p50Ms: number;
  p99Ms: number;
  requestsPerS: number;
  /** CPU time wrk itself used (user + system), from the shell's `times`. */
  wrkCpuS: number;
  /** What the script counted besides answers (its `count_*` fields), e.g. pages walked. */
  counts?: Record<string, number>;
}

/** One order-placing run: bench/wrk/orders.lua against POST /orders. */
export function runWrk(load: Load): Promise<WrkResult> {
  return runWrkScript({
    script: SCRIPT,
    url: `${load.url}/orders`,
    connections: load.connections,
    durationS: load.durationS,
    env: {
      BENCH_TAG: load.tag,
      BENCH_BATCH: String(load.batch),
      BENCH_AUTH: load.authorization ?? '',
    },
  });
}

/**
 * Runs wrk (one thread) with a script of bench/wrk/ that prints one line "BENCH_RESULT {json}"
 * in done(), under bash, whose `times` reports the CPU its child used: the reader can check the
 * generator was not the bottleneck.
 */
export function runWrkScript(run: {
  script: string;
  url: string;
  connections: number;
  durationS: number;
  env: Record<string, string>;
}): Promise<WrkResult> {
  const args = [
    '-t1',
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    '--timeout',
    '10s',
    '-s',
    run.script,
    run.url,
  ];
  const env = { ...process.env, ...run.env };
  const shell = 'wrk "$@"; status=$?; times; exit $status';
  // Its own process group, so that a bench stopped early (Ctrl-C, a failure) can kill wrk and
  // not only the shell around it.
  const child = spawn('bash', ['-c', shell, 'bash', ...args], { env, detached: true });
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = /^BENCH_RESULT (.*)$/m.exec(out);
      if (code !== 0 || !line) {
        reject(new Error(`wrk failed (exit ${code}):\n${out}\n${err}`));
        return;
      }
      resolve(parse(JSON.parse(line[1]!) as Record<string, number>, out));
    });
  });
}

function parse(r: Record<string, number>, out: string): WrkResult {
  const durationS = r.duration_us! / 1e6;
  return {
    durationS,
    requests: r.requests!,
    ok: r.ok!,
    non2xx: r.non_2xx!,
    lastNon2xx: r.last_non_2xx!,
    socketErrors: r.socket_errors!,
    timeouts: r.timeouts!,
    p50Ms: r.p50_us! / 1000,
    p99Ms: r.p99_us! / 1000,
    requestsPerS: r.requests! / durationS,
    wrkCpuS: childCpu(out),
    ...(Object.keys(r).some((k) => k.startsWith('count_')) && {
      counts: Object.fromEntries(
        Object.entries(r)
          .filter(([k]) => k.startsWith('count_'))
          .map(([k, v]) => [k.slice('count_'.length), v]),
      ),
    }),
  };
}

/** `times` prints the shell's user/sys, then its children's: "0m1.250s 0m0.310s". */
function childCpu(out: string): number {
  const lines = [...out.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/gm)];
  const last = lines.at(-1);
  if (!last) return NaN;
  const [, um, us, sm, ss] = last.map(Number);
  return um! * 60 + us! + sm! * 60 + ss!;
}
