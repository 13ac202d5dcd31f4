import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta' with {
  'resolution-mode': 'import',
};
import type { IContainer } from 'kubernetes-models/v1/Container' with {
  'resolution-mode': 'import',
};
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec' with { 'resolution-mode': 'import' };
import { chartDir, helm, repoRoot, type HelmResult } from './helm';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: IObjectMeta & { name: string };
  [field: string]: unknown;
}

export const RELEASE = 'order-service';
export const NAMESPACE = 'orders';
// Recent enough for every API the chart uses (preStop sleep is GA in 1.34).
const KUBE_VERSION = '1.34.0';

export const ciValuesFiles = readdirSync(join(chartDir, 'ci'))
  .filter((file) => file.endsWith('-values.yaml'))
  .sort()
  .map((file) => join('charts/order-service/ci', file));

export interface RenderOptions {
  valuesFiles?: string[];
  set?: Record<string, string | number | boolean>;
  release?: string;
}

export function helmTemplate(options: RenderOptions = {}): HelmResult {
  const args = ['template', options.release ?? RELEASE, chartDir, '--namespace', NAMESPACE];
  args.push('--kube-version', KUBE_VERSION);
  for (const file of options.valuesFiles ?? []) args.push('--values', join(repoRoot, file));
  for (const [key, value] of Object.entries(options.set ?? {})) {
    args.push(typeof value === 'string' ? '--set-string' : '--set', `${key}=${value}`);
  }
  return helm(args);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map(String).join('\n'));
      return doc.toJS() as K8sObject | null;
    })
    .filter((obj): obj is K8sObject => obj !== null);
}

/** Renders the chart and returns its objects; throws with helm's stderr if rendering fails. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const result = helmTemplate(options);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function findAll<T = K8sObject>(objects: K8sObject[], kind: string): (K8sObject & T)[] {
  return objects.filter((obj) => obj.kind === kind) as (K8sObject & T)[];
}

export function find<T = K8sObject>(
  objects: K8sObject[],
  kind: string,
  name: string,
): K8sObject & T {
  const found = objects.find((obj) => obj.kind === kind && obj.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered`);
  return found as K8sObject & T;
}

/** The pod spec of a Deployment, Job or Pod. */
export function podSpecOf(obj: K8sObject): IPodSpec {
  const spec = obj.spec as { template?: { spec: IPodSpec } } & IPodSpec;
  return obj.kind === 'Pod' ? spec : spec.template!.spec;
}

export function containersOf(obj: K8sObject): IContainer[] {
  const pod = podSpecOf(obj);
  return [...(pod.initContainers ?? []), ...pod.containers];
}

export const workloadKinds = ['Deployment', 'Job', 'Pod'];

export interface ModelResult {
  kind: string;
  name: string;
  status: 'valid' | 'invalid' | 'no-model';
  error?: string;
}

/** Validates objects against the kubernetes-models schemas (see validate-models.mjs). */
export function validateWithModels(objects: K8sObject[]): ModelResult[] {
  const result = spawnSync(process.execPath, [join(__dirname, 'validate-models.mjs')], {
    cwd: repoRoot,
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`validate-models.mjs failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as ModelResult[];
}
