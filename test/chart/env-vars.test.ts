import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_VARS } from '../../src/config';
import { repoRoot } from './helpers/helm';
import { containersOf, findAll, render, type K8sObject } from './helpers/render';

/**
 * Read by config.ts but never set by the chart, each with the reason. Variables the chart sets
 * to a fixed value (MIGRATE_ON_START: "false", the hook Job migrates) or takes from the Secret
 * (DATABASE_URL, REDIS_URL, JWT_SECRET, ADMIN_*; optional where they may be absent) are set,
 * so they need no entry here.
 */
const NOT_SET_BY_CHART: Record<string, string> = {
  GIT_COMMIT: 'belongs to the image: the Dockerfile bakes it in from its GIT_COMMIT build arg',
};

/** The variable names in the first column of the README's configuration table. */
function readmeVariables(): string[] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]!.split(/^## /m)[0]!;
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return rows.flatMap((row) =>
    [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!),
  );
}

/** Every variable the app containers get: env entries and the keys of envFrom ConfigMaps. */
function chartVariables(objects: K8sObject[]): string[] {
  const configMaps = findAll<{ data?: Record<string, string> }>(objects, 'ConfigMap');
  const containers = [...findAll(objects, 'Deployment'), ...findAll(objects, 'Job')].flatMap(
    containersOf,
  );
  return containers.flatMap((container) => [
    ...(container.env ?? []).map((e) => e.name),
    ...(container.envFrom ?? []).flatMap(({ configMapRef }) => {
      const map = configMaps.find((c) => c.metadata.name === configMapRef?.name);
      return Object.keys(map?.data ?? {});
    }),
  ]);
}

const missingFrom = (names: Iterable<string>, from: Iterable<string>) => {
  const known = new Set(from);
  return [...new Set(names)].filter((name) => !known.has(name)).sort();
};

// Every optional feature on, so that every `with` block of the ConfigMap renders.
const objects = render({
  valuesFiles: ['charts/order-service/ci/production-values.yaml'],
  set: { 'config.metricsHost': '0.0.0.0' },
});

describe('every environment variable config.ts reads', () => {
  it('has a row in the README configuration table', () => {
    expect({ undocumented: missingFrom(ENV_VARS, readmeVariables()) }).toEqual({
      undocumented: [],
    });
  });

  it('is set by the chart, or listed with the reason it is not', () => {
    const notSetByChart = missingFrom(ENV_VARS, chartVariables(objects));
    expect({ notSetByChart }).toEqual({ notSetByChart: Object.keys(NOT_SET_BY_CHART).sort() });
  });
});

describe('every environment variable named elsewhere is one config.ts reads', () => {
  it('in the README configuration table', () => {
    expect({ unknown: missingFrom(readmeVariables(), ENV_VARS) }).toEqual({ unknown: [] });
  });

  it('in the ConfigMap and the env of the Deployments and the migrations Job', () => {
    expect({ unknown: missingFrom(chartVariables(objects), ENV_VARS) }).toEqual({ unknown: [] });
  });
});
