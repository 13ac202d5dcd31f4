import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  hitCount?: number;
  callFrame: { functionName: string; url: string };
}

export interface ProfileRow {
  where: string;
  selfMs: number;
  share: number;
}

/**
 * Self time of a V8 .cpuprofile by where the code lives: `pkg:<name>` (node_modules),
 * `src:<folder>` (the dist/ folder of the file), `node:<module>`, or V8's own `(garbage collector)`,
 * `(program)`, `(idle)`. Shares are of the busy time (idle excluded).
 */
export function summarizeProfile(file: string): ProfileRow[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / profile.samples.length;
  const byWhere = new Map<string, number>();
  for (const node of profile.nodes) {
    const key = where(node.callFrame);
    byWhere.set(key, (byWhere.get(key) ?? 0) + (node.hitCount ?? 0) * msPerSample);
  }
  const busy = [...byWhere].filter(([k]) => k !== '(idle)').reduce((n, [, ms]) => n + ms, 0);
  return [...byWhere]
    .map(([k, ms]) => ({ where: k, selfMs: ms, share: k === '(idle)' ? NaN : ms / busy }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

function where({ functionName, url }: ProfileNode['callFrame']): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `pkg:${pkg[1]}`;
  const src = /\/dist\/(?:(.+)\/)?[^/]+\.js$/.exec(url);
  if (src) return `src:${src[1] ?? '.'}`;
  if (url.startsWith('node:')) return url.split('/')[0]!;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  return url;
}

export function profileMarkdown(rows: ProfileRow[], top = 15): string {
  return [
    '| where | self ms | share of busy |',
    '|---|---|---|',
    ...rows
      .slice(0, top)
      .map(
        (r) =>
          `| ${r.where} | ${r.selfMs.toFixed(0)} | ${Number.isNaN(r.share) ? '–' : (100 * r.share).toFixed(1) + '%'} |`,
      ),
  ].join('\n');
}
