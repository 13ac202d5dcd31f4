import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import type { IContainer } from 'kubernetes-models/v1/Container' with {
  'resolution-mode': 'import',
};
import { chartDir, helm } from './helpers/helm';
import {
  ciValuesFiles,
  containersOf,
  find,
  findAll,
  NAMESPACE,
  podSpecOf,
  RELEASE,
  render,
  validateWithModels,
  workloadKinds,
  type K8sObject,
} from './helpers/render';

const API = `${RELEASE}-api`;
const WORKER = `${RELEASE}-worker`;
const MIGRATIONS = `${RELEASE}-migrations`;
const SECRET_ENV = ['DATABASE_URL', 'REDIS_URL', 'JWT_SECRET', 'ADMIN_USERNAME', 'ADMIN_PASSWORD'];
// Their schemas live in optional model packages; when those are absent the key fields are
// asserted directly further down.
const OPTIONAL_MODEL_KINDS = ['ScaledObject', 'TriggerAuthentication', 'HTTPRoute'];

interface Labelled {
  spec: { selector: { matchLabels: Record<string, string> }; replicas?: number };
}

const rendered = new Map<string, K8sObject[]>(
  ciValuesFiles.map((file) => [file, render({ valuesFiles: [file] })]),
);
const minimal = rendered.get('charts/order-service/ci/minimal-values.yaml')!;
const production = rendered.get('charts/order-service/ci/production-values.yaml')!;
const inlineSecret = rendered.get('charts/order-service/ci/inline-secret-values.yaml')!;

function readValues(file: string): Record<string, unknown> {
  return parse(readFileSync(join(chartDir, '..', '..', file), 'utf8')) as Record<string, unknown>;
}

function configOf(objects: K8sObject[]): Record<string, string> {
  return (find(objects, 'ConfigMap', RELEASE) as K8sObject & { data: Record<string, string> }).data;
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

describe('chart scenarios in charts/order-service/ci', () => {
  it('include the minimal and the production scenario', () => {
    expect(ciValuesFiles).toEqual(
      expect.arrayContaining([
        'charts/order-service/ci/minimal-values.yaml',
        'charts/order-service/ci/production-values.yaml',
      ]),
    );
  });

  describe.each(ciValuesFiles)('%s', (file) => {
    const objects = rendered.get(file)!;

    it('passes helm lint --strict', () => {
      const result = helm([
        'lint',
        '--strict',
        chartDir,
        '--values',
        join(chartDir, '../..', file),
      ]);
      expect(result.stderr + result.stdout).toContain('0 chart(s) failed');
      expect(result.status).toBe(0);
    });

    it('renders only objects that validate against their Kubernetes schemas', () => {
      const results = validateWithModels(objects);
      expect(results.filter((r) => r.status === 'invalid')).toEqual([]);
      const unmodelled = results.filter((r) => r.status === 'no-model').map((r) => r.kind);
      expect(unmodelled.filter((kind) => !OPTIONAL_MODEL_KINDS.includes(kind))).toEqual([]);
    });

    it('gives api and worker startup, liveness (/healthz) and readiness (/readyz) probes', () => {
      for (const name of [API, WORKER]) {
        const [container] = containersOf(find(objects, 'Deployment', name));
        expect(container!.startupProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
        expect(container!.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
        expect(container!.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
      }
    });

    it('runs every container (app, migration Job, test pods) under the restricted profile', () => {
      const workloads = objects.filter((obj) => workloadKinds.includes(obj.kind));
      expect(workloads.map((w) => w.kind)).toEqual(expect.arrayContaining(['Deployment', 'Pod']));
      for (const workload of workloads) {
        const pod = podSpecOf(workload);
        for (const container of containersOf(workload)) {
          const sc = container.securityContext ?? {};
          const where = `${workload.kind}/${workload.metadata.name}/${container.name}`;
          expect({
            where,
            runAsNonRoot: sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot,
          }).toEqual({ where, runAsNonRoot: true });
          const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
          expect({ where, numericNonRootUid: Number.isInteger(uid) && uid! > 0 }).toEqual({
            where,
            numericNonRootUid: true,
          });
          expect({ where, sc }).toMatchObject({
            where,
            sc: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            },
          });
          const seccomp = sc.seccompProfile ?? pod.securityContext?.seccompProfile;
          expect({ where, seccomp }).toEqual({ where, seccomp: { type: 'RuntimeDefault' } });
        }
      }
    });

    it('mounts a writable emptyDir at /tmp for the app containers on a read-only root', () => {
      for (const workload of objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job')) {
        const pod = podSpecOf(workload);
        const [container] = containersOf(workload);
        const mount = container!.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(mount).toBeDefined();
        expect(pod.volumes?.find((v) => v.name === mount!.name)?.emptyDir).toBeDefined();
      }
    });

    it('passes secrets only through secretKeyRef, never as plain values', () => {
      const secretValues = objects
        .filter((obj) => obj.kind === 'Secret')
        .flatMap((secret) => Object.values((secret.stringData ?? {}) as Record<string, string>));
      for (const workload of objects.filter((obj) => workloadKinds.includes(obj.kind))) {
        for (const container of containersOf(workload)) {
          for (const env of container.env ?? []) {
            if (SECRET_ENV.includes(env.name)) {
              expect({
                env: env.name,
                value: env.value,
                ref: env.valueFrom?.secretKeyRef?.key,
              }).toEqual({
                env: env.name,
                value: undefined,
                ref: env.name,
              });
            }
          }
        }
      }
      // No secret value leaks into any other object (ConfigMap, pod specs, annotations...).
      const nonSecrets = JSON.stringify(objects.filter((obj) => obj.kind !== 'Secret'));
      for (const value of secretValues) expect(nonSecrets).not.toContain(value);
      expect(Object.keys(configOf(objects)).filter((key) => SECRET_ENV.includes(key))).toEqual([]);
    });

    it('keeps api and worker pods apart: each selector matches its own pods only', () => {
      const api = find<Labelled>(objects, 'Deployment', API);
      const worker = find<Labelled>(objects, 'Deployment', WORKER);
      const apiPods = podLabels(api);
      const workerPods = podLabels(worker);
      expect(api.spec.selector.matchLabels).not.toEqual(worker.spec.selector.matchLabels);
      expect(matches(api.spec.selector.matchLabels, apiPods)).toBe(true);
      expect(matches(worker.spec.selector.matchLabels, workerPods)).toBe(true);
      expect(matches(api.spec.selector.matchLabels, workerPods)).toBe(false);
      expect(matches(worker.spec.selector.matchLabels, apiPods)).toBe(false);
      const apiService = find<Labelled & { spec: { selector: Record<string, string> } }>(
        objects,
        'Service',
        API,
      );
      expect(matches(apiService.spec.selector, apiPods)).toBe(true);
      expect(matches(apiService.spec.selector, workerPods)).toBe(false);
    });

    it('runs both roles from the same image with the api / worker arguments', () => {
      const [api] = containersOf(find(objects, 'Deployment', API));
      const [worker] = containersOf(find(objects, 'Deployment', WORKER));
      expect(api!.image).toBe(worker!.image);
      expect(api!.args).toEqual(['api']);
      expect(worker!.args).toEqual(['worker']);
    });

    it('gives pods longer to stop than the preStop pause plus the app drain budget', () => {
      const shutdown = Number(configOf(objects).SHUTDOWN_TIMEOUT_SECONDS);
      expect(shutdown).toBeGreaterThan(0);
      for (const name of [API, WORKER]) {
        const deployment = find(objects, 'Deployment', name);
        const [container] = containersOf(deployment);
        const grace = podSpecOf(deployment).terminationGracePeriodSeconds!;
        expect(grace).toBeGreaterThan(shutdown + preStopSeconds(container!));
      }
    });

    it('pauses the api before SIGTERM so endpoints drain first', () => {
      const [container] = containersOf(find(objects, 'Deployment', API));
      expect(preStopSeconds(container!)).toBeGreaterThanOrEqual(3);
    });

    it('rolls the pods when the configuration changes (checksum annotation)', () => {
      for (const name of [API, WORKER]) {
        const template = (find(objects, 'Deployment', name).spec as { template: K8sObject })
          .template;
        expect(template.metadata.annotations?.['checksum/config']).toMatch(/^[a-f0-9]{64}$/);
      }
    });

    it('migrates in a pre-install/pre-upgrade hook Job with its own access to DATABASE_URL', () => {
      const job = find(objects, 'Job', MIGRATIONS);
      const annotations = job.metadata.annotations!;
      expect(annotations['helm.sh/hook']!.split(',').sort()).toEqual([
        'pre-install',
        'pre-upgrade',
      ]);
      expect(annotations['helm.sh/hook-weight']).toMatch(/^-?\d+$/);
      expect(annotations['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
      const [container] = containersOf(job);
      expect(container!.args).toEqual(['migrate']);
      expect(container!.envFrom ?? []).toEqual([]); // the release ConfigMap may not exist yet
      const ref = container!.env!.find((e) => e.name === 'DATABASE_URL')!.valueFrom!.secretKeyRef!;
      const hookSecret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
      if (hookSecret) {
        // A chart-made Secret must itself be a hook that exists before the Job runs.
        const secretAnnotations = hookSecret.metadata.annotations!;
        expect(secretAnnotations['helm.sh/hook']).toBe(annotations['helm.sh/hook']);
        expect(Number(secretAnnotations['helm.sh/hook-weight'])).toBeLessThan(
          Number(annotations['helm.sh/hook-weight']),
        );
      } else {
        expect(ref.name).toBe(readValues(file).existingSecret);
      }
    });

    it('has helm test pods that call /readyz and make an authenticated request', () => {
      const tests = findAll(objects, 'Pod').filter(
        (pod) => pod.metadata.annotations?.['helm.sh/hook'] === 'test',
      );
      const scripts = tests.flatMap((pod) => containersOf(pod).flatMap((c) => c.args ?? []));
      expect(scripts.some((s) => s.includes('/readyz'))).toBe(true);
      if (file.includes('minimal')) return; // no admin credentials configured there
      const auth = tests.find((pod) => JSON.stringify(pod).includes('/auth/token'));
      const [container] = containersOf(auth!);
      expect(container!.args!.join(' ')).toMatch(/-u "\$ADMIN_USERNAME:\$ADMIN_PASSWORD"/);
      for (const name of ['ADMIN_USERNAME', 'ADMIN_PASSWORD']) {
        const ref = container!.env!.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
        expect(ref).toMatchObject({ key: name });
        expect(ref?.optional).toBeUndefined();
      }
    });

    it('renders a PodDisruptionBudget exactly for the components with more than one replica', () => {
      for (const [component, name] of [
        ['api', API],
        ['worker', WORKER],
      ] as const) {
        const deployment = find<Labelled>(objects, 'Deployment', name);
        const minReplicas = effectiveMinReplicas(objects, component, deployment);
        const pdb = objects.find(
          (o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === name,
        );
        expect({ component, pdb: pdb !== undefined }).toEqual({ component, pdb: minReplicas > 1 });
        if (pdb) {
          const selector = (pdb as K8sObject & Labelled).spec.selector.matchLabels;
          expect(selector).toEqual(deployment.spec.selector.matchLabels);
        }
      }
    });

    it('never routes the metrics port through the Ingress or HTTPRoute', () => {
      const service = find<{ spec: { ports: { name: string; port: number }[] } }>(
        objects,
        'Service',
        API,
      );
      const httpPort = service.spec.ports.find((p) => p.name === 'http')!.port;
      for (const ingress of findAll(objects, 'Ingress')) {
        const backends = JSON.stringify(ingress.spec);
        const ports = [...backends.matchAll(/"port":(\{[^}]*\})/g)].map((m) => JSON.parse(m[1]!));
        expect(ports.length).toBeGreaterThan(0);
        for (const port of ports) expect(port).toEqual({ name: 'http' });
      }
      for (const route of findAll<{
        spec: { rules: { backendRefs: { name: string; port: number }[] }[] };
      }>(objects, 'HTTPRoute')) {
        for (const ref of route.spec.rules.flatMap((r) => r.backendRefs)) {
          expect(ref).toEqual({ name: API, port: httpPort });
        }
      }
    });
  });
});

function podLabels(deployment: K8sObject): Record<string, string> {
  return (deployment.spec as { template: K8sObject }).template.metadata.labels ?? {};
}

function preStopSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop;
  if (!preStop) return 0;
  if (preStop.sleep) return preStop.sleep.seconds;
  const command = preStop.exec?.command ?? [];
  return command[0]?.endsWith('sleep') ? Number(command[1]) : 0;
}

function effectiveMinReplicas(
  objects: K8sObject[],
  component: 'api' | 'worker',
  deployment: K8sObject & Labelled,
): number {
  const name = deployment.metadata.name;
  const hpa = objects.find(
    (o) =>
      o.kind === 'HorizontalPodAutoscaler' &&
      (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
  );
  if (hpa) return (hpa.spec as { minReplicas: number }).minReplicas;
  const scaled = objects.find(
    (o) =>
      o.kind === 'ScaledObject' &&
      (o.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
  );
  if (scaled) return (scaled.spec as { minReplicaCount: number }).minReplicaCount;
  expect({ component, replicas: typeof deployment.spec.replicas }).toEqual({
    component,
    replicas: 'number',
  });
  return deployment.spec.replicas!;
}

describe('production scenario (every feature on)', () => {
  it('exposes the api through ingress-nginx with TLS, rate limits and the 1 MiB body limit', () => {
    const ingress = find<{
      spec: { ingressClassName: string; tls: { secretName: string; hosts: string[] }[] };
    }>(production, 'Ingress', RELEASE);
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([
      { secretName: 'orders-example-com-tls', hosts: ['orders.example.com'] },
    ]);
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
      'nginx.ingress.kubernetes.io/limit-rps': '50',
      'nginx.ingress.kubernetes.io/limit-burst-multiplier': '5',
      'nginx.ingress.kubernetes.io/limit-connections': '50',
      'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
    });
  });

  it('offers a Gateway API HTTPRoute to the api Service', () => {
    const route = find<{ spec: { parentRefs: unknown[]; hostnames: string[] } }>(
      production,
      'HTTPRoute',
      RELEASE,
    );
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec.parentRefs.length).toBeGreaterThan(0);
    expect(route.spec.hostnames).toEqual(['orders.example.com']);
  });

  it('autoscales the api with an HPA that owns the replica count', () => {
    const hpa = find<{
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number };
    }>(production, 'HorizontalPodAutoscaler', API);
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: API });
    expect(hpa.spec.minReplicas).toBe(3);
    expect(find<Labelled>(production, 'Deployment', API).spec.replicas).toBeUndefined();
  });

  it('scales the worker on the BullMQ wait list with a KEDA redis trigger', () => {
    const scaled = find<{
      spec: {
        scaleTargetRef: { name: string };
        minReplicaCount: number;
        triggers: {
          type: string;
          metadata: Record<string, string>;
          authenticationRef?: { name: string };
        }[];
      };
    }>(production, 'ScaledObject', WORKER);
    expect(scaled.apiVersion).toBe('keda.sh/v1alpha1');
    expect(scaled.spec.scaleTargetRef.name).toBe(WORKER);
    const [trigger] = scaled.spec.triggers;
    expect(trigger).toMatchObject({
      type: 'redis',
      metadata: {
        address: 'redis-master.redis.svc:6379',
        listName: `${NAMESPACE}.${RELEASE}:orders:wait`,
        listLength: '50',
      },
    });
    // KEDA expects every metadata value as a string.
    for (const value of Object.values(trigger!.metadata)) expect(typeof value).toBe('string');
    const auth = find<{ spec: { secretTargetRef: unknown[] } }>(
      production,
      'TriggerAuthentication',
      trigger!.authenticationRef!.name,
    );
    expect(auth.spec.secretTargetRef).toEqual([
      { parameter: 'password', name: 'redis-auth', key: 'password' },
    ]);
    expect(find<Labelled>(production, 'Deployment', WORKER).spec.replicas).toBeUndefined();
  });

  it('labels the ServiceMonitor and PrometheusRule for kube-prometheus-stack', () => {
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      expect(find(production, kind, RELEASE).metadata.labels).toMatchObject({
        release: 'kube-prometheus-stack',
      });
    }
    const monitor = find<{
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    }>(production, 'ServiceMonitor', RELEASE);
    expect(monitor.spec.endpoints.map((e) => e.port)).toEqual(['metrics']);
    // It selects both Services, and both have a metrics port.
    for (const name of [API, WORKER]) {
      const service = find<{ spec: { ports: { name: string }[] } }>(production, 'Service', name);
      expect(matches(monitor.spec.selector.matchLabels, service.metadata.labels)).toBe(true);
      expect(service.spec.ports.map((p) => p.name)).toContain('metrics');
    }
  });

  it('embeds files/prometheus-rules.yaml as the PrometheusRule groups', () => {
    const rule = find<{ spec: { groups: unknown[] } }>(production, 'PrometheusRule', RELEASE);
    const file = parse(readFileSync(join(chartDir, 'files/prometheus-rules.yaml'), 'utf8')) as {
      groups: unknown[];
    };
    expect(rule.spec.groups).toEqual(file.groups);
  });

  it('ships the Grafana dashboard in a ConfigMap the sidecar picks up', () => {
    const dashboard = find<{ data: Record<string, string> }>(
      production,
      'ConfigMap',
      `${RELEASE}-dashboard`,
    );
    expect(dashboard.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    expect(dashboard.metadata.annotations).toMatchObject({ grafana_folder: 'Orders' });
    const json = JSON.parse(dashboard.data['order-service.json']!) as { panels: unknown[] };
    expect(json.panels.length).toBeGreaterThan(0);
  });

  it('limits traffic with a NetworkPolicy: ingress controller to http, Prometheus to metrics', () => {
    const policy = find<{
      spec: {
        policyTypes: string[];
        ingress: { from: Record<string, unknown>[]; ports: { port: string | number }[] }[];
        egress: { ports?: { port: number | string; protocol: string }[] }[];
      };
    }>(production, 'NetworkPolicy', RELEASE);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    const fromNamespace = (name: string) =>
      policy.spec.ingress.find((rule) =>
        JSON.stringify(rule.from).includes(`"kubernetes.io/metadata.name":"${name}"`),
      );
    expect(fromNamespace('ingress-nginx')?.ports.map((p) => p.port)).toEqual(['http']);
    expect(fromNamespace('monitoring')?.ports.map((p) => p.port)).toEqual(['metrics']);
    const egressPorts = policy.spec.egress
      .flatMap((rule) => rule.ports ?? [])
      .map((p) => `${p.port}/${p.protocol}`);
    expect(egressPorts).toEqual(
      expect.arrayContaining(['53/UDP', '53/TCP', '3306/TCP', '6379/TCP']),
    );
  });

  it('lets only worker pods send webhook deliveries: 443 to public addresses, none private', () => {
    const policy = find<{
      spec: {
        podSelector: { matchLabels: Record<string, string> };
        policyTypes: string[];
        egress: {
          ports: { port: number; protocol: string }[];
          to: { ipBlock: { cidr: string; except: string[] } }[];
        }[];
      };
    }>(production, 'NetworkPolicy', `${RELEASE}-webhooks`);
    expect(policy.spec.podSelector.matchLabels).toMatchObject({
      'app.kubernetes.io/component': 'worker',
    });
    expect(policy.spec.policyTypes).toEqual(['Egress']);
    const [rule] = policy.spec.egress;
    expect(rule!.ports).toEqual([{ port: 443, protocol: 'TCP' }]);
    const v4 = rule!.to.find((peer) => peer.ipBlock.cidr === '0.0.0.0/0')!.ipBlock.except;
    expect(v4).toEqual(
      expect.arrayContaining([
        '10.0.0.0/8',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '169.254.0.0/16',
        '127.0.0.0/8',
      ]),
    );
  });

  it('reads every secret from existingSecret and creates no Secret of its own', () => {
    expect(findAll(production, 'Secret')).toEqual([]);
    const [api] = containersOf(find(production, 'Deployment', API));
    const refs = api!
      .env!.filter((e) => e.valueFrom?.secretKeyRef)
      .map((e) => e.valueFrom!.secretKeyRef!.name);
    expect(new Set(refs)).toEqual(new Set(['order-service-secrets']));
  });
});

describe('minimal scenario (defaults)', () => {
  it('renders no optional objects', () => {
    const kinds = new Set(minimal.map((o) => o.kind));
    for (const kind of [
      'Ingress',
      'HTTPRoute',
      'HorizontalPodAutoscaler',
      'ScaledObject',
      'NetworkPolicy',
      'ServiceMonitor',
      'PrometheusRule',
    ]) {
      expect(kinds.has(kind)).toBe(false);
    }
  });

  it('uses the Kubernetes preStop sleep action and disables migrate-on-start', () => {
    const [api] = containersOf(find(minimal, 'Deployment', API));
    expect(api!.lifecycle?.preStop?.sleep?.seconds).toBe(5);
    expect(configOf(minimal)).toMatchObject({
      MIGRATE_ON_START: 'false',
      TRUST_PROXY: '1',
      PORT: '8080',
      METRICS_PORT: '9464',
    });
  });

  it('renders a ConfigMap the service accepts as its configuration, failed-login limits included', () => {
    const data = configOf(minimal);
    expect(data).toMatchObject({
      RATE_LIMIT_AUTH_FAILURES_MAX: '20',
      RATE_LIMIT_ACCOUNT_FAILURES_MAX: '10',
    });
    const config = loadConfig('api', { ...data, JWT_SECRET: 'x'.repeat(32) });
    expect(config.rateLimit.accountFailuresMax).toBe(10);
  });

  it('names the Deployments <release>-api and <release>-worker', () => {
    expect(
      findAll(minimal, 'Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual([API, WORKER]);
  });
});

describe('inline-secret scenario', () => {
  it('keeps the credentials in the chart Secret and the hook Secret only', () => {
    const secrets = findAll<{ stringData: Record<string, string> }>(inlineSecret, 'Secret');
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual([RELEASE, MIGRATIONS]);
    expect(
      Object.keys(find<{ stringData: object }>(inlineSecret, 'Secret', MIGRATIONS).stringData),
    ).toEqual(['DATABASE_URL']);
  });

  it('uses an exec sleep preStop when asked to, within the explicit grace period', () => {
    const deployment = find(inlineSecret, 'Deployment', API);
    const [api] = containersOf(deployment);
    expect(api!.lifecycle?.preStop?.exec?.command).toEqual(['/bin/sleep', '10']);
    expect(podSpecOf(deployment).terminationGracePeriodSeconds).toBe(60);
  });

  it('omits rate-limit annotations that are set to 0', () => {
    const annotations = find(inlineSecret, 'Ingress', RELEASE).metadata.annotations ?? {};
    expect(Object.keys(annotations).filter((k) => k.includes('/limit-'))).toEqual([]);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('1m');
  });
});

describe('rendering with overrides', () => {
  const base = ['charts/order-service/ci/minimal-values.yaml'];

  it('drops the api PodDisruptionBudget at one replica and adds one for the worker at two', () => {
    const objects = render({
      valuesFiles: base,
      set: { 'api.replicaCount': 1, 'worker.replicaCount': 2 },
    });
    const pdbs = findAll(objects, 'PodDisruptionBudget').map((p) => p.metadata.name);
    expect(pdbs).toEqual([WORKER]);
  });

  it('changes the config checksum when a setting changes', () => {
    const checksum = (objects: K8sObject[]) =>
      (find(objects, 'Deployment', API).spec as { template: K8sObject }).template.metadata
        .annotations?.['checksum/config'];
    const debug = render({ valuesFiles: base, set: { 'config.logLevel': 'debug' } });
    expect(checksum(debug)).not.toBe(checksum(minimal));
  });

  it('sets METRICS_HOST only when config.metricsHost is given', () => {
    expect(configOf(minimal)).not.toHaveProperty('METRICS_HOST');
    const objects = render({ valuesFiles: base, set: { 'config.metricsHost': '10.0.0.7' } });
    expect(configOf(objects).METRICS_HOST).toBe('10.0.0.7');
  });

  it('derives the grace period from SHUTDOWN_TIMEOUT_SECONDS', () => {
    const objects = render({ valuesFiles: base, set: { 'config.shutdownTimeoutSeconds': 50 } });
    expect(
      podSpecOf(find(objects, 'Deployment', API)).terminationGracePeriodSeconds,
    ).toBeGreaterThan(55);
    expect(
      podSpecOf(find(objects, 'Deployment', WORKER)).terminationGracePeriodSeconds,
    ).toBeGreaterThan(50);
  });

  it('refuses a grace period that leaves no time to drain', () => {
    expect(() =>
      render({ valuesFiles: base, set: { 'api.terminationGracePeriodSeconds': 20 } }),
    ).toThrow(/api.terminationGracePeriodSeconds \(20\) must exceed/);
  });

  it('fails clearly when the database URL is missing', () => {
    expect(() =>
      render({ set: { 'redis.url': 'redis://r:6379', 'auth.jwtSecret': 'x'.repeat(32) } }),
    ).toThrow(/database.url is required/);
  });

  it('derives REDIS_PREFIX from the release namespace and name, so releases can share a Redis', () => {
    expect(configOf(minimal).REDIS_PREFIX).toBe(`${NAMESPACE}.${RELEASE}`);
    const other = render({ valuesFiles: base, release: 'orders-eu' });
    const config = findAll<{ data: Record<string, string> }>(other, 'ConfigMap').find(
      (c) => c.data.REDIS_PREFIX,
    );
    expect(config?.data.REDIS_PREFIX).toBe(`${NAMESPACE}.orders-eu`);
  });

  it('takes REDIS_PREFIX from redis.prefix, and KEDA watches the wait list under it', () => {
    const objects = render({
      valuesFiles: ['charts/order-service/ci/production-values.yaml'],
      set: { 'redis.prefix': 'bull' },
    });
    expect(configOf(objects).REDIS_PREFIX).toBe('bull');
    const scaled = find<{ spec: { triggers: { metadata: Record<string, string> }[] } }>(
      objects,
      'ScaledObject',
      WORKER,
    );
    expect(scaled.spec.triggers[0]!.metadata.listName).toBe('bull:orders:wait');
  });

  it('puts the release namespace into the ServiceMonitor', () => {
    const objects = render({ valuesFiles: base, set: { 'metrics.serviceMonitor.enabled': true } });
    const monitor = find<{ spec: { namespaceSelector: { matchNames: string[] } } }>(
      objects,
      'ServiceMonitor',
      RELEASE,
    );
    expect(monitor.spec.namespaceSelector.matchNames).toEqual([NAMESPACE]);
  });
});
