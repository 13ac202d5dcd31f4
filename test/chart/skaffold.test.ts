import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './helpers/helm';
import { find, render } from './helpers/render';

interface HelmRelease {
  name: string;
  chartPath: string;
  valuesFiles: string[];
  setValueTemplates: Record<string, string>;
}

interface SkaffoldConfig {
  apiVersion: string;
  metadata: { name: string };
  build?: { artifacts: { image: string; docker?: { dockerfile: string } }[] };
  manifests?: { rawYaml: string[] };
  deploy?: { helm?: { releases: HelmRelease[] } };
  portForward?: { resourceType: string; resourceName: string; port: number; localPort: number }[];
  profiles?: {
    name: string;
    activation?: { kubeContext: string }[];
    patches?: { op: string; path: string; value: string }[];
  }[];
}

const configs = parseAllDocuments(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8')).map(
  (doc) => doc.toJS() as SkaffoldConfig,
);
const app = configs.find((c) => c.build)!;
const release = app.deploy!.helm!.releases[0]!;

// skaffold exposes an artifact's image as IMAGE_REPO_<name>, non-alphanumerics as "_".
const templateName = (image: string) => image.replace(/[^A-Za-z0-9]/g, '_');

describe('skaffold.yaml', () => {
  it('uses the skaffold v4 schema in every config', () => {
    for (const config of configs) expect(config.apiVersion).toMatch(/^skaffold\/v4beta\d+$/);
  });

  it('builds the order-service image from the Dockerfile', () => {
    expect(app.build!.artifacts).toEqual([
      expect.objectContaining({ image: 'order-service', docker: { dockerfile: 'Dockerfile' } }),
    ]);
    expect(existsSync(join(repoRoot, 'Dockerfile'))).toBe(true);
  });

  it('deploys the shipped chart, with the built image set through value templates', () => {
    expect(release.chartPath).toBe('charts/order-service');
    const image = templateName(app.build!.artifacts[0]!.image);
    expect(release.setValueTemplates).toEqual({
      'image.repository': `{{.IMAGE_REPO_${image}}}`,
      'image.tag': `{{.IMAGE_TAG_${image}}}`,
    });
  });

  it('deploys the development MySQL and Redis before the chart', () => {
    const deps = configs.indexOf(configs.find((c) => c.manifests)!);
    expect(deps).toBeLessThan(configs.indexOf(app));
    expect(configs[deps]!.manifests!.rawYaml.sort()).toEqual([
      'k8s/dev/mysql.yaml',
      'k8s/dev/redis.yaml',
    ]);
  });

  it('has kind and minikube profiles that add their override files', () => {
    const profiles = Object.fromEntries((app.profiles ?? []).map((p) => [p.name, p]));
    expect(Object.keys(profiles)).toEqual(expect.arrayContaining(['kind', 'minikube']));
    expect(profiles.kind!.activation).toEqual([{ kubeContext: 'kind-order-service' }]);
    expect(profiles.minikube!.activation).toEqual([{ kubeContext: 'minikube' }]);
    for (const name of ['kind', 'minikube']) {
      expect(profiles[name]!.patches).toEqual([
        {
          op: 'add',
          path: '/deploy/helm/releases/0/valuesFiles/-',
          value: `k8s/values-${name}.yaml`,
        },
      ]);
    }
  });

  it('has a gateway-fabric profile that swaps the Ingress for the HTTPRoute and NGF policies', () => {
    const profile = (app.profiles ?? []).find((p) => p.name === 'gateway-fabric')!;
    expect(profile.activation).toBeUndefined(); // combined with kind or minikube
    expect(profile.patches).toEqual([
      {
        op: 'add',
        path: '/deploy/helm/releases/0/valuesFiles/-',
        value: 'k8s/values-gateway-fabric.yaml',
      },
    ]);
    const objects = render({
      release: release.name,
      valuesFiles: [...release.valuesFiles, 'k8s/values-kind.yaml', profile.patches![0]!.value],
      set: { 'image.repository': 'order-service', 'image.tag': 'dev' },
    });
    const kinds = objects.map((o) => o.kind);
    expect(kinds).not.toContain('Ingress');
    expect(kinds).toEqual(
      expect.arrayContaining([
        'HTTPRoute',
        'RateLimitPolicy',
        'ClientSettingsPolicy',
        'NetworkPolicy',
      ]),
    );
  });

  it('references only files that exist', () => {
    const files = [
      ...configs.flatMap((c) => c.manifests?.rawYaml ?? []),
      ...release.valuesFiles,
      ...(app.profiles ?? []).flatMap((p) => (p.patches ?? []).map((patch) => patch.value)),
    ];
    for (const file of files)
      expect({ file, exists: existsSync(join(repoRoot, file)) }).toEqual({ file, exists: true });
  });

  it.each(['kind', 'minikube'])(
    'renders the chart with the %s values and forwards the api Service to localhost:8080',
    (profile) => {
      const objects = render({
        release: release.name,
        valuesFiles: [...release.valuesFiles, `k8s/values-${profile}.yaml`],
        set: { 'image.repository': 'order-service', 'image.tag': 'dev' },
      });
      const [forward] = app.portForward!;
      expect(forward).toEqual({
        resourceType: 'service',
        resourceName: forward!.resourceName,
        port: 8080,
        localPort: 8080,
      });
      const service = find<{ spec: { ports: { name: string; port: number }[] } }>(
        objects,
        'Service',
        forward!.resourceName,
      );
      expect(service.spec.ports).toContainEqual(
        expect.objectContaining({ name: 'http', port: forward!.port }),
      );
    },
  );
});
