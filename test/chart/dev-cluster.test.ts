import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers/helm';
import { find, parseManifests, render, validateWithModels } from './helpers/render';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');
const devManifests = ['k8s/dev/mysql.yaml', 'k8s/dev/redis.yaml'].flatMap((file) =>
  parseManifests(read(file)),
);

describe('k8s/ development cluster files', () => {
  it('dev MySQL and Redis manifests validate against their Kubernetes schemas', () => {
    const results = validateWithModels(devManifests);
    expect(results.filter((r) => r.status !== 'valid')).toEqual([]);
    expect(results.map((r) => `${r.kind}/${r.name}`)).toEqual(
      expect.arrayContaining([
        'Service/mysql',
        'StatefulSet/mysql',
        'Service/redis',
        'StatefulSet/redis',
      ]),
    );
  });

  it('runs Redis with noeviction and AOF fsync every second, from its mounted config', () => {
    const config = find<{ data: Record<string, string> }>(devManifests, 'ConfigMap', 'redis').data[
      'redis.conf'
    ]!;
    const settings = Object.fromEntries(
      config
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/, 2)),
    );
    expect(settings).toMatchObject({
      'maxmemory-policy': 'noeviction',
      appendonly: 'yes',
      appendfsync: 'everysec',
    });
    const redis = find<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(
      devManifests,
      'StatefulSet',
      'redis',
    );
    expect(redis.spec.template.spec.containers[0]!.args).toEqual(['/etc/redis/redis.conf']);
  });

  it('gives the dev database the credentials values-dev.yaml uses', () => {
    const secret = find<{ stringData: Record<string, string> }>(
      devManifests,
      'Secret',
      'mysql',
    ).stringData;
    const values = parse(read('k8s/values-dev.yaml')) as {
      database: { url: string };
      redis: { url: string };
    };
    const url = new URL(values.database.url);
    expect({
      user: url.username,
      password: url.password,
      db: url.pathname.slice(1),
      host: url.hostname,
    }).toEqual({
      user: secret.MYSQL_USER,
      password: secret.MYSQL_PASSWORD,
      db: secret.MYSQL_DATABASE,
      host: 'mysql',
    });
    expect(new URL(values.redis.url).hostname).toBe('redis');
  });

  it('maps host ports 80/443 into a kind node labelled ingress-ready', () => {
    const cluster = parse(read('k8s/kind/cluster.yaml')) as {
      name: string;
      nodes: {
        labels?: Record<string, string>;
        extraPortMappings?: { containerPort: number; hostPort: number }[];
      }[];
    };
    expect(cluster.name).toBe('order-service'); // kube context kind-order-service, as in skaffold.yaml
    const node = cluster.nodes.find((n) => n.labels?.['ingress-ready'] === 'true')!;
    expect(node.extraPortMappings!.map((m) => [m.containerPort, m.hostPort])).toEqual([
      [80, 80],
      [443, 443],
    ]);
    const kindValues = parse(read('k8s/ingress-nginx/values-kind.yaml')) as {
      controller: { hostPort: { enabled: boolean }; nodeSelector: Record<string, string> };
    };
    expect(kindValues.controller.hostPort.enabled).toBe(true);
    expect(kindValues.controller.nodeSelector['ingress-ready']).toBe('true');
  });

  it('configures ingress-nginx to answer 429, keep client IPs and not trust client headers', () => {
    const values = parse(read('k8s/ingress-nginx/values.yaml')) as {
      controller: { config: Record<string, string>; service: { externalTrafficPolicy: string } };
    };
    expect(values.controller.config).toMatchObject({
      'limit-req-status-code': '429',
      'limit-conn-status-code': '429',
      'use-forwarded-headers': 'false',
    });
    expect(values.controller.service.externalTrafficPolicy).toBe('Local');
  });

  it('points the PXC variant at the single-writer HAProxy service of the pxc-db release', () => {
    const db = parse(read('k8s/pxc/db-values.yaml')) as {
      fullnameOverride: string;
      pxc: { size: number; configuration: string };
      haproxy: { enabled: boolean };
      proxysql: { enabled: boolean };
    };
    expect(db.haproxy.enabled).toBe(true);
    expect(db.proxysql.enabled).toBe(false);
    expect(db.pxc.size).toBeGreaterThanOrEqual(3);
    expect(db.pxc.configuration).toMatch(/innodb_flush_log_at_trx_commit=1/);
    const app = parse(read('k8s/values-pxc.yaml')) as { database: { url: string } };
    expect(new URL(app.database.url).hostname).toBe(`${db.fullnameOverride}-haproxy.pxc`);
    expect(new URL(app.database.url).port).toBe('3306');
  });

  it('renders the chart with the PXC override (its keys pass the values schema)', () => {
    const objects = render({ valuesFiles: ['k8s/values-dev.yaml', 'k8s/values-pxc.yaml'] });
    expect(objects.map((o) => o.kind)).toContain('Deployment');
  });

  it('keeps per-environment files to overrides: none repeats what values-dev.yaml sets', () => {
    const dev = parse(read('k8s/values-dev.yaml')) as Record<string, unknown>;
    for (const file of [
      'k8s/values-kind.yaml',
      'k8s/values-minikube.yaml',
      'k8s/values-pxc.yaml',
      'k8s/values-gateway-fabric.yaml',
    ]) {
      const overrides = parse(read(file)) as Record<string, unknown>;
      for (const [key, value] of Object.entries(overrides)) {
        expect({ file, key, same: JSON.stringify(dev[key]) === JSON.stringify(value) }).toEqual({
          file,
          key,
          same: false,
        });
      }
    }
  });
});
