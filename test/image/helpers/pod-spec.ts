/*
 * Turns a container of a rendered Deployment or Job into a `podman run`, the way the kubelet
 * would start it: command and args, env resolved from the rendered ConfigMap and Secret,
 * the merged pod/container security context, emptyDir mounts as the only writable paths,
 * the container ports. Anything the translation does not understand throws, so a chart change
 * it would otherwise ignore fails the test instead of passing it.
 *
 * Why not `podman kube play`: Debian's podman 4.3 plays Pods, Deployments, PVCs and ConfigMaps
 * but no Jobs (the migration) and no Secrets (the connection strings); kube play learned both
 * only in later releases.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered YAML, checked field by field */
export type Obj = Record<string, any>;

export interface PodmanRun {
  image: string;
  /** Everything between `podman run` and the image, then the image's args. */
  options: string[];
  args: string[];
  /** containerPort by port name. */
  ports: Record<string, number>;
  readinessPath?: string;
  readinessPort?: string | number;
  terminationGracePeriodSeconds: number;
}

const HANDLED_CONTAINER_FIELDS = new Set([
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'env',
  'envFrom',
  'ports',
  'securityContext',
  'volumeMounts',
  'resources',
  // Probes: the readiness probe is what the test waits for; liveness/startup restart a pod.
  'readinessProbe',
  'livenessProbe',
  'startupProbe',
  // preStop sleep delays SIGTERM in a cluster; `podman stop` sends SIGTERM at once.
  'lifecycle',
]);

function find(docs: Obj[], kind: string, name: string): Obj {
  const doc = docs.find((d) => d.kind === kind && d.metadata?.name === name);
  if (!doc) throw new Error(`the chart renders no ${kind} ${name}`);
  return doc;
}

function secretData(secret: Obj): Record<string, string> {
  const data: Record<string, string> = { ...(secret.stringData ?? {}) };
  for (const [key, value] of Object.entries(secret.data ?? {})) {
    data[key] = Buffer.from(String(value), 'base64').toString('utf8');
  }
  return data;
}

function source(docs: Obj[], kind: 'ConfigMap' | 'Secret', name: string): Record<string, string> {
  const doc = find(docs, kind, name);
  return kind === 'Secret' ? secretData(doc) : { ...(doc.data ?? {}) };
}

/** The container's environment in kubelet order: envFrom first, then env (env wins). */
export function resolveEnv(docs: Obj[], container: Obj): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    if (!ref) throw new Error(`unsupported envFrom ${JSON.stringify(from)}`);
    for (const [key, value] of Object.entries(source(docs, kind, ref.name))) {
      env[`${from.prefix ?? ''}${key}`] = value;
    }
  }
  for (const entry of container.env ?? []) {
    if ('value' in entry) {
      env[entry.name] = String(entry.value);
      continue;
    }
    const ref = entry.valueFrom?.secretKeyRef ?? entry.valueFrom?.configMapKeyRef;
    const kind = entry.valueFrom?.secretKeyRef ? 'Secret' : 'ConfigMap';
    if (!ref) throw new Error(`unsupported env source for ${entry.name}`);
    const values = source(docs, kind, ref.name);
    if (ref.key in values) env[entry.name] = values[ref.key]!;
    // The kubelet refuses to start a container whose required key is missing.
    else if (!ref.optional)
      throw new Error(`${entry.name}: ${kind} ${ref.name} has no key ${ref.key}`);
  }
  return env;
}

function securityOptions(pod: Obj, container: Obj): string[] {
  const context = { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
  const options: string[] = [];
  if (context.runAsUser === undefined) throw new Error(`${container.name}: no runAsUser`);
  if (context.runAsNonRoot && context.runAsUser === 0) {
    throw new Error(`${container.name}: runAsNonRoot with runAsUser 0`);
  }
  options.push('--user', `${context.runAsUser}:${context.runAsGroup ?? context.runAsUser}`);
  if (context.fsGroup !== undefined) options.push('--group-add', String(context.fsGroup));
  // Only the emptyDir mounts below are writable, as in the pod.
  if (context.readOnlyRootFilesystem) options.push('--read-only', '--read-only-tmpfs=false');
  if (context.allowPrivilegeEscalation === false)
    options.push('--security-opt', 'no-new-privileges');
  for (const cap of context.capabilities?.drop ?? []) options.push('--cap-drop', cap);
  for (const cap of context.capabilities?.add ?? []) options.push('--cap-add', cap);
  const seccomp = context.seccompProfile?.type;
  if (seccomp !== undefined && seccomp !== 'RuntimeDefault') {
    throw new Error(`${container.name}: seccomp profile ${seccomp} is not translated`);
  }
  return options;
}

function mountOptions(pod: Obj, container: Obj): string[] {
  const options: string[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v: Obj) => v.name === mount.name);
    if (!volume?.emptyDir)
      throw new Error(`${container.name}: volume ${mount.name} is not an emptyDir`);
    const size = volume.emptyDir.sizeLimit
      ? `,size=${String(volume.emptyDir.sizeLimit).replace(/i$/, '')}`
      : '';
    options.push('--tmpfs', `${mount.mountPath}:rw,nosuid,nodev,mode=1777${size}`);
  }
  return options;
}

/** The podman run for one container of a rendered Deployment or Job. */
export function podmanRun(
  docs: Obj[],
  kind: string,
  name: string,
  containerName: string,
): PodmanRun {
  const pod = find(docs, kind, name).spec.template.spec;
  const container = (pod.containers as Obj[]).find((c) => c.name === containerName);
  if (!container) throw new Error(`${kind} ${name} has no container ${containerName}`);
  const unknown = Object.keys(container).filter((field) => !HANDLED_CONTAINER_FIELDS.has(field));
  if (unknown.length > 0)
    throw new Error(`${containerName}: untranslated fields ${unknown.join(', ')}`);

  const env = resolveEnv(docs, container);
  const options = [
    ...securityOptions(pod, container),
    ...mountOptions(pod, container),
    ...Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]),
  ];
  if (container.command) options.push('--entrypoint', JSON.stringify(container.command));
  const memory = container.resources?.limits?.memory;
  if (memory) options.push('--memory', String(memory).replace(/i$/, '').toLowerCase());

  const ports: Record<string, number> = {};
  for (const port of container.ports ?? []) ports[port.name] = port.containerPort;
  const probe = container.readinessProbe?.httpGet;
  return {
    image: container.image,
    options,
    args: (container.args ?? []).map(String),
    ports,
    readinessPath: probe?.path,
    readinessPort: probe?.port,
    terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds ?? 30,
  };
}
