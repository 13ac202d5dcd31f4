import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface BuildInfo {
  version: string;
  commit: string;
}

/**
 * The version comes from package.json (next to dist/ in the image, next to src/ in a checkout);
 * the commit from the GIT_COMMIT environment variable when the image or deployment sets it.
 */
export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  return { version: packageVersion(), commit: env.GIT_COMMIT?.trim() || 'unknown' };
}

function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '../../package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
