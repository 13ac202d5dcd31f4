import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './helpers/helm';
import {
  find,
  findAll,
  helmTemplate,
  parseManifests,
  RELEASE,
  render,
  validateWithModels,
  type K8sObject,
} from './helpers/render';

const scenario = 'charts/order-service/ci/gateway-fabric-values.yaml';
const objects = render({ valuesFiles: [scenario] });
const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');
const manifests = (file: string) => parseManifests(read(file));
const gatewayFiles = [
  'k8s/gateway-fabric/gateway.yaml',
  'k8s/gateway-fabric/cluster-issuers.yaml',
  'k8s/gateway-fabric/nginx-proxy.yaml',
];

interface RateLimitPolicy {
  spec: {
    targetRefs: { group: string; kind: string; name: string }[];
    rateLimit: {
      local: { rules: { key: string; rate: string; burst: number; noDelay: boolean }[] };
      rejectCode: number;
    };
  };
}
interface ClientSettingsPolicy {
  spec: {
    targetRef: { group: string; kind: string; name: string };
    body: { maxSize: string; timeout: string };
  };
}
interface Listener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
  tls?: { mode: string; certificateRefs: { kind: string; name: string }[] };
}

// Negative cases reach deep into rendered objects; typing each path would only restate the schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Editable = any;

/** A valid object with one field changed, for the schemas' negative cases. */
function changed(obj: K8sObject, edit: (copy: Editable) => void): K8sObject {
  const copy = structuredClone(obj);
  edit(copy);
  return copy;
}

function statusOf(obj: K8sObject): string {
  const [result] = validateWithModels([obj]);
  return result!.error ? `${result!.status}: ${result!.error}` : result!.status;
}

describe('NGINX Gateway Fabric policies on the HTTPRoute', () => {
  const rateLimit = find<RateLimitPolicy>(objects, 'RateLimitPolicy', RELEASE);
  const clientSettings = find<ClientSettingsPolicy>(objects, 'ClientSettingsPolicy', RELEASE);
  const route = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: RELEASE };

  it('attach to the chart HTTPRoute', () => {
    expect(find(objects, 'HTTPRoute', RELEASE).metadata.name).toBe(RELEASE);
    expect(rateLimit.spec.targetRefs).toEqual([route]);
    expect(clientSettings.spec.targetRef).toEqual(route);
  });

  it('limit like the Ingress: 50 r/s per client address, burst x5 without delay, 429', () => {
    expect(rateLimit.apiVersion).toBe('gateway.nginx.org/v1alpha1');
    expect(rateLimit.spec.rateLimit.local.rules).toEqual([
      expect.objectContaining({
        key: '$binary_remote_addr',
        rate: '50r/s',
        burst: 250,
        noDelay: true,
      }),
    ]);
    expect(rateLimit.spec.rateLimit.rejectCode).toBe(429);
  });

  it('cap request bodies at the API limit of 1 MiB', () => {
    expect(clientSettings.apiVersion).toBe('gateway.nginx.org/v1alpha1');
    expect(clientSettings.spec.body.maxSize).toBe('1m');
  });

  it('validate against the hand-written NGF schemas', () => {
    expect(validateWithModels([rateLimit, clientSettings])).toEqual([
      { kind: 'RateLimitPolicy', name: RELEASE, status: 'valid' },
      { kind: 'ClientSettingsPolicy', name: RELEASE, status: 'valid' },
    ]);
  });

  it('are not rendered by default, nor with the HTTPRoute alone', () => {
    const ngf = (list: K8sObject[]) =>
      list.filter((o) => o.apiVersion.startsWith('gateway.nginx.org/'));
    const minimal = ['charts/order-service/ci/minimal-values.yaml'];
    expect(ngf(render({ valuesFiles: minimal }))).toEqual([]);
    const routeOnly = render({ valuesFiles: minimal, set: { 'httpRoute.enabled': true } });
    expect(findAll(routeOnly, 'HTTPRoute')).toHaveLength(1);
    expect(ngf(routeOnly)).toEqual([]);
  });

  it('follow the values: rate, burst and body size', () => {
    const custom = render({
      valuesFiles: [scenario],
      set: {
        'httpRoute.nginxGatewayFabric.rateLimit.rps': 20,
        'httpRoute.nginxGatewayFabric.rateLimit.burstMultiplier': 2,
        'httpRoute.nginxGatewayFabric.clientSettings.bodyMaxSize': '512k',
      },
    });
    const [rule] = find<RateLimitPolicy>(custom, 'RateLimitPolicy', RELEASE).spec.rateLimit.local
      .rules;
    expect(rule).toMatchObject({ rate: '20r/s', burst: 40 });
    expect(find<ClientSettingsPolicy>(custom, 'ClientSettingsPolicy', RELEASE).spec.body).toEqual(
      expect.objectContaining({ maxSize: '512k' }),
    );
  });

  it.each([
    ['a body size NGF cannot read', 'clientSettings.bodyMaxSize', '1MiB'],
    ['a duration NGF cannot read', 'clientSettings.bodyTimeout', '10 seconds'],
    ['a misspelt key', 'rateLimit.burstMultiplyer', '5'],
  ])('values.schema.json rejects %s', (_what, key, value) => {
    const result = helmTemplate({
      valuesFiles: [scenario],
      set: { [`httpRoute.nginxGatewayFabric.${key}`]: value },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
  });
});

describe('the NGF JSON schemas reject what the API rejects', () => {
  const rateLimit = find(objects, 'RateLimitPolicy', RELEASE);
  const clientSettings = find(objects, 'ClientSettingsPolicy', RELEASE);
  const nginxProxy = find(
    manifests('k8s/gateway-fabric/nginx-proxy.yaml'),
    'NginxProxy',
    'gateway',
  );

  it.each<[string, K8sObject, RegExp]>([
    [
      'a misspelt rule field (burts)',
      changed(rateLimit, (o) => {
        const rule = o.spec.rateLimit.local.rules[0];
        rule.burts = rule.burst;
        delete rule.burst;
      }),
      /must NOT have additional properties/,
    ],
    [
      'a rate that is not N r/s or r/m',
      changed(rateLimit, (o) => (o.spec.rateLimit.local.rules[0].rate = '50rps')),
      /rate must match pattern/,
    ],
    [
      'rejectCode outside 400-599',
      changed(rateLimit, (o) => (o.spec.rateLimit.rejectCode = 200)),
      /rejectCode must be >= 400/,
    ],
    [
      'a target that is not a Gateway API route or Gateway',
      changed(rateLimit, (o) => (o.spec.targetRefs[0].kind = 'Service')),
      /kind must be equal to one of the allowed values/,
    ],
    [
      'the plural targetRefs on a ClientSettingsPolicy',
      changed(clientSettings, (o) => {
        o.spec.targetRefs = [o.spec.targetRef];
        delete o.spec.targetRef;
      }),
      /must have required property 'targetRef'/,
    ],
    [
      'a body size with a unit NGF does not know',
      changed(clientSettings, (o) => (o.spec.body.maxSize = '1MiB')),
      /maxSize must match pattern/,
    ],
    [
      'a rewriteClientIP mode without trusted addresses',
      changed(nginxProxy, (o) => delete o.spec.rewriteClientIP.trustedAddresses),
      /must have required property 'trustedAddresses'/,
    ],
    [
      'an unknown rewriteClientIP mode',
      changed(nginxProxy, (o) => (o.spec.rewriteClientIP.mode = 'XFF')),
      /mode must be equal to one of the allowed values/,
    ],
    [
      'NginxProxy at the v1alpha1 API version it is no longer served at',
      changed(nginxProxy, (o) => (o.apiVersion = 'gateway.nginx.org/v1alpha1')),
      /no-model|apiVersion/,
    ],
  ])('rejects %s', (_what, obj, error) => {
    const status = statusOf(obj);
    expect(status).not.toBe('valid');
    expect(status).toMatch(error);
  });
});

describe('k8s/gateway-fabric: the Gateway, TLS from cert-manager and the client address', () => {
  const gatewayObjects = manifests('k8s/gateway-fabric/gateway.yaml');
  const gateway = find<{
    spec: { gatewayClassName: string; listeners: Listener[] };
  }>(gatewayObjects, 'Gateway', 'gateway');
  const issuers = manifests('k8s/gateway-fabric/cluster-issuers.yaml');

  it('validates every object against its schema (gateway-api, cert-manager, NGF models)', () => {
    const results = validateWithModels(gatewayFiles.flatMap(manifests));
    expect(results.filter((r) => r.status !== 'valid')).toEqual([]);
    expect(results.map((r) => r.kind)).toEqual(
      expect.arrayContaining([
        'Gateway',
        'HTTPRoute',
        'ClusterIssuer',
        'Certificate',
        'NginxProxy',
      ]),
    );
  });

  it('rejects a cert-manager CA issuer without its Secret (the cert-manager model is checked)', () => {
    const caIssuer = find(issuers, 'ClusterIssuer', 'order-service-dev-ca');
    expect(statusOf(changed(caIssuer, (o) => delete o.spec.ca.secretName))).toMatch(
      /^invalid: .*secretName/,
    );
  });

  it('is the parent the chart HTTPRoute names, on its HTTPS listener', () => {
    const [parent] = parse(read('charts/order-service/values.yaml')).httpRoute.parentRefs as {
      name: string;
      namespace: string;
      sectionName: string;
    }[];
    expect(gateway.metadata).toMatchObject({ name: parent!.name, namespace: parent!.namespace });
    const https = gateway.spec.listeners.find((l) => l.name === parent!.sectionName)!;
    expect(https).toMatchObject({ protocol: 'HTTPS', port: 443, hostname: 'order-service.local' });
    expect(gateway.spec.gatewayClassName).toBe('nginx');
  });

  it('gets its certificate from a ClusterIssuer defined beside it (cert-manager gateway-shim)', () => {
    const https = gateway.spec.listeners.find((l) => l.protocol === 'HTTPS')!;
    expect(https.tls?.mode).toBe('Terminate');
    expect(https.tls?.certificateRefs).toEqual([
      { kind: 'Secret', name: 'order-service-local-tls' },
    ]);
    const issuer = gateway.metadata.annotations?.['cert-manager.io/cluster-issuer'];
    const ca = find<{ spec: { ca: { secretName: string } } }>(issuers, 'ClusterIssuer', issuer!);
    const root = find<{ spec: { isCA: boolean; secretName: string; issuerRef: { name: string } } }>(
      issuers,
      'Certificate',
      'order-service-dev-ca',
    );
    expect(root.spec).toMatchObject({ isCA: true, secretName: ca.spec.ca.secretName });
    expect(find(issuers, 'ClusterIssuer', root.spec.issuerRef.name).spec).toEqual({
      selfSigned: {},
    });
  });

  it('redirects plain HTTP to HTTPS', () => {
    const redirect = find<{
      spec: {
        parentRefs: { name: string; sectionName: string }[];
        rules: { filters: { type: string; requestRedirect: object }[] }[];
      };
    }>(gatewayObjects, 'HTTPRoute', 'https-redirect');
    expect(redirect.spec.parentRefs).toEqual([{ name: 'gateway', sectionName: 'http' }]);
    expect(redirect.spec.rules[0]!.filters).toEqual([
      { type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } },
    ]);
  });

  it('lets the NetworkPolicy admit exactly the data-plane pods NGF provisions for this Gateway', () => {
    const policy = find<{
      spec: { ingress: { from: { namespaceSelector: object; podSelector: object }[] }[] };
    }>(objects, 'NetworkPolicy', RELEASE);
    expect(policy.spec.ingress[0]!.from).toEqual([
      {
        namespaceSelector: {
          matchLabels: { 'kubernetes.io/metadata.name': gateway.metadata.namespace },
        },
        podSelector: {
          matchLabels: { 'gateway.networking.k8s.io/gateway-name': gateway.metadata.name },
        },
      },
    ]);
  });

  it('trusts a forwarded client address only from named load-balancer addresses', () => {
    const proxy = find<{
      spec: { rewriteClientIP: { mode: string; trustedAddresses: { value: string }[] } };
    }>(manifests('k8s/gateway-fabric/nginx-proxy.yaml'), 'NginxProxy', 'gateway');
    expect(proxy.apiVersion).toBe('gateway.nginx.org/v1alpha2');
    const trusted = proxy.spec.rewriteClientIP.trustedAddresses.map((a) => a.value);
    expect(trusted.length).toBeGreaterThan(0);
    expect(trusted.filter((value) => /\/0$/.test(value))).toEqual([]);
  });

  it('publishes the NGF node ports on localhost:80/443 in the kind cluster', () => {
    const cluster = parse(read('k8s/kind/cluster-gateway-fabric.yaml')) as {
      name: string;
      nodes: { extraPortMappings: { containerPort: number; hostPort: number }[] }[];
    };
    const ngf = parse(read('k8s/gateway-fabric/ngf-values.yaml')) as {
      nginx: { service: { type: string; nodePorts: { port: number; listenerPort: number }[] } };
    };
    expect(cluster.name).toBe('order-service'); // context kind-order-service, skaffold's kind profile
    expect(ngf.nginx.service.type).toBe('NodePort');
    const hostPortOf = new Map(
      cluster.nodes[0]!.extraPortMappings.map((m) => [m.containerPort, m.hostPort]),
    );
    const listenerPorts = gateway.spec.listeners.map((l) => l.port).sort();
    expect(ngf.nginx.service.nodePorts.map((p) => p.listenerPort).sort()).toEqual(listenerPorts);
    for (const { port, listenerPort } of ngf.nginx.service.nodePorts) {
      expect({ port, hostPort: hostPortOf.get(port) }).toEqual({ port, hostPort: listenerPort });
    }
  });

  it('installs cert-manager with Gateway API support on', () => {
    const values = parse(read('k8s/gateway-fabric/cert-manager-values.yaml')) as {
      crds: { enabled: boolean };
      config: { enableGatewayAPI: boolean };
    };
    expect(values).toMatchObject({ crds: { enabled: true }, config: { enableGatewayAPI: true } });
  });
});
