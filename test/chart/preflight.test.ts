import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/helm';

const script = join(repoRoot, 'scripts/preflight.sh');

// What each tool prints for the version command the script runs, as a real release would.
const newEnough: Record<string, string> = {
  docker: '28.3.3',
  kind: 'kind v0.30.0 go1.24.6 linux/amd64',
  minikube: 'v1.37.0',
  kubectl:
    '{\n  "clientVersion": {\n    "major": "1",\n    "minor": "34",\n    "gitVersion": "v1.34.1"\n  },\n  "kustomizeVersion": "v5.7.1"\n}',
  helm: 'v4.1.4+g05fa379',
  skaffold: 'v2.19.0',
  curl: 'curl 8.14.1',
  jq: 'jq-1.7.1',
};

/** Runs the script with only the given fake tools (and the shell utilities it needs) on PATH. */
function preflight(path: string, tools: Record<string, string>) {
  const bin = mkdtempSync(join(tmpdir(), 'preflight-'));
  try {
    for (const util of ['sh', 'awk', 'grep', 'sed', 'head']) {
      const real = spawnSync('sh', ['-c', `command -v ${util}`], { encoding: 'utf8' });
      symlinkSync(real.stdout.trim(), join(bin, util));
    }
    for (const [tool, output] of Object.entries(tools)) {
      const file = join(bin, tool);
      // printf is a shell builtin: the fake needs nothing else on PATH.
      writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' '${output}'\n`);
      chmodSync(file, 0o755);
    }
    const result = spawnSync(join(bin, 'sh'), [script, path], {
      encoding: 'utf8',
      env: { PATH: bin },
    });
    return { status: result.status, out: result.stdout + result.stderr };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

function without(tool: string): Record<string, string> {
  return Object.fromEntries(Object.entries(newEnough).filter(([name]) => name !== tool));
}

describe('scripts/preflight.sh', () => {
  it.each(['kind', 'minikube'])('passes the %s path when every tool is new enough', (path) => {
    const { status, out } = preflight(path, newEnough);
    expect(out).toContain('ok       helm 4.1.4 (>= 3.8.0)');
    expect(out).toContain('ok       skaffold 2.19.0 (>= 2.19.0)');
    expect(out).toContain('ok       kubectl 1.34.1 (>= 1.32.0)');
    expect(out).not.toMatch(/missing|too old/);
    expect(status).toBe(0);
  });

  it('refuses Helm 4 with skaffold 2.18, naming skaffold', () => {
    const { status, out } = preflight('kind', { ...newEnough, skaffold: 'v2.18.2' });
    expect(out).toMatch(/^too old {2}skaffold 2\.18\.2 \(need >= 2\.19\.0\)/m);
    expect(out).toContain('ok       helm 4.1.4');
    expect(status).toBe(1);
  });

  it('names a missing tool and fails', () => {
    const { status, out } = preflight('kind', without('kind'));
    expect(out).toMatch(/^missing {2}kind: not on PATH/m);
    expect(status).toBe(1);
  });

  it('asks only for what the path needs: minikube without docker or kind passes', () => {
    const tools = Object.fromEntries(
      Object.entries(newEnough).filter(([name]) => name !== 'docker' && name !== 'kind'),
    );
    const { status, out } = preflight('minikube', tools);
    expect(out).not.toMatch(/docker|kind /);
    expect(status).toBe(0);
  });

  it('compares versions field by field as numbers: 2.9 is older than 2.19', () => {
    const { status, out } = preflight('kind', { ...newEnough, skaffold: 'v2.9.0' });
    expect(out).toMatch(/^too old {2}skaffold 2\.9\.0/m);
    expect(status).toBe(1);
    const newer = preflight('kind', {
      ...newEnough,
      kubectl: '{"clientVersion":{"gitVersion":"v1.100.0"}}',
    });
    expect(newer.out).toContain('ok       kubectl 1.100.0');
  });

  it('refuses a kind older than the one whose nodes run Kubernetes 1.32', () => {
    const { status, out } = preflight('kind', {
      ...newEnough,
      kind: 'kind v0.25.0 go1.23.4 linux/amd64',
    });
    expect(out).toMatch(/^too old {2}kind 0\.25\.0 \(need >= 0\.26\.0\)/m);
    expect(status).toBe(1);
  });

  it('rejects an unknown path with usage', () => {
    const { status, out } = preflight('docker-desktop', newEnough);
    expect(out).toContain('usage:');
    expect(status).toBe(2);
  });
});
