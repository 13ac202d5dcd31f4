import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface BuildInfo {
  version: string;
  commit: string;
}

/**
 * The version comes from package.json (next to dist/ in the image, next to src/ in a checkout);
 * the commit is config.gitCommit (GIT_COMMIT, set by the image or the deployment).
 */
export function buildInfo(commit = 'unknown'): BuildInfo {
  return { version: packageVersion(), commit };
}

function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '../../package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
