import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(__dirname, '..');

/** The command line; a bad value stops the bench before anything starts. */
export function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      'drain-timeout': { type: 'string', default: '90' },
      sustain: { type: 'string', default: '60' },
      galera: { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(ROOT, '.tmp/bench/latest.json') },
    },
  });
  const number = (name: string, value: string, min = Number.MIN_VALUE) => {
    const n = Number(value);
    if (!(n >= min)) throw new Error(`--${name} must be a number ≥ ${min}, not ${value}`);
    return n;
  };
  return {
    durationS: number('duration', values.duration),
    rounds: number('rounds', values.rounds),
    drainTimeoutS: number('drain-timeout', values['drain-timeout']),
    /** Seconds at the naive peer's single-order rate; 0 skips that scenario. */
    sustainS: number('sustain', values.sustain, 0),
    galera: values.galera,
    out: path.resolve(values.out),
  };
}

/** The tools the bench needs, then a fresh dist/ for `node dist/main.js`. */
export function preflight(): void {
  for (const tool of ['wrk', 'bash', 'npm']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      throw new Error(`${tool} is not on PATH (Debian/Ubuntu: apt-get install -y ${tool})`);
    }
  }
  console.error('bench: npm run build');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');
}
