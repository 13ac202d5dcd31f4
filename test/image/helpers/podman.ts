import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export const repoRoot = resolve(__dirname, '../../..');
export const IMAGE = 'localhost/order-service:test';

/*
 * Flags from ../shared/FIELD-NOTES.md ("Building and running the image here"): runc with the
 * cgroupfs manager (crun fails on these kernels), explicit ulimits (the defaults are refused).
 * The image store lives in the checkout's .tmp/, so a fresh clone builds everything itself and
 * never sees images another run left behind.
 */
const globalFlags = [
  '--root',
  join(repoRoot, '.tmp/podman/storage'),
  '--runroot',
  // podman records the runroot with the store; one per checkout, on the temp filesystem.
  join(
    tmpdir(),
    `order-service-podman-${createHash('sha256').update(repoRoot).digest('hex').slice(0, 12)}`,
  ),
  '--runtime',
  'runc',
  '--cgroup-manager',
  'cgroupfs',
];
export const ULIMITS = ['--ulimit', 'nofile=4096:4096', '--ulimit', 'nproc=4096:4096'];

export async function podman(args: string[], timeoutMs = 120_000): Promise<string> {
  const { stdout } = await exec('podman', [...globalFlags, ...args], {
    maxBuffer: 64 * 1024 * 1024,
    timeout: timeoutMs,
  });
  return stdout.trim();
}

/** The base image the Dockerfile pins (`ARG NODE_IMAGE=node:<tag>`), as a full reference. */
export function dockerfileBaseImage(): string {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const match = /^ARG NODE_IMAGE=node:(\S+)$/m.exec(dockerfile);
  if (!match) throw new Error('Dockerfile: no ARG NODE_IMAGE=node:<tag>');
  return `docker.io/library/node:${match[1]}`;
}

async function imageExists(ref: string): Promise<boolean> {
  return podman(['image', 'exists', ref]).then(
    () => true,
    () => false,
  );
}

/** No registry is reachable here: builds the stand-in base once per checkout (~40 s). */
export async function ensureBaseImage(): Promise<string> {
  const ref = dockerfileBaseImage();
  if (await imageExists(ref)) return ref;
  const tag = ref.split(':')[1]!;
  await exec(
    join(__dirname, 'stand-in-base.sh'),
    [tag, join(repoRoot, '.tmp/podman/base'), ...globalFlags],
    { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return ref;
}

export interface Build {
  seconds: number;
  buildStageBytes: number;
  imageBytes: number;
}

/** Builds the Dockerfile as it is in the repository, from the checkout, without pulling. */
export async function buildImage(): Promise<Build> {
  const started = Date.now();
  const build = [
    'build',
    ...ULIMITS,
    '--pull=never',
    '--network',
    'host',
    '--build-arg',
    'GIT_COMMIT=image-test',
  ];
  await podman([...build, '--target', 'build', '-t', `${IMAGE}-build-stage`, repoRoot], 600_000);
  await podman([...build, '-t', IMAGE, repoRoot], 600_000);
  const size = async (ref: string) =>
    Number(await podman(['image', 'inspect', ref, '--format', '{{.Size}}']));
  return {
    seconds: (Date.now() - started) / 1000,
    buildStageBytes: await size(`${IMAGE}-build-stage`),
    imageBytes: await size(IMAGE),
  };
}

/** State of a container that has exited (or not): podman inspect. */
export async function containerState(
  name: string,
): Promise<{ running: boolean; exitCode: number }> {
  const out = await podman(['inspect', name, '--format', '{{.State.Running}} {{.State.ExitCode}}']);
  const [running, exitCode] = out.split(' ');
  return { running: running === 'true', exitCode: Number(exitCode) };
}

export async function removeContainers(names: string[]): Promise<void> {
  if (names.length > 0)
    await podman(['rm', '--force', '--ignore', ...names]).catch(() => undefined);
}
