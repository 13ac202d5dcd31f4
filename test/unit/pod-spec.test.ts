import { podmanRun, resolveEnv } from '../image/helpers/pod-spec';

/* The translation from a rendered pod spec to `podman run` (pure logic; no podman needed). */
const configMap = {
  kind: 'ConfigMap',
  metadata: { name: 'cm' },
  data: { PORT: '8080', A: 'from-cm' },
};
const secret = {
  kind: 'Secret',
  metadata: { name: 's' },
  data: { DATABASE_URL: Buffer.from('mysql://x').toString('base64') },
  stringData: { B: 'plain' },
};
const container = {
  name: 'api',
  image: 'img:1',
  args: ['api'],
  envFrom: [{ configMapRef: { name: 'cm' } }],
  env: [
    { name: 'A', value: 'overrides' },
    { name: 'DATABASE_URL', valueFrom: { secretKeyRef: { name: 's', key: 'DATABASE_URL' } } },
    { name: 'ADMIN', valueFrom: { secretKeyRef: { name: 's', key: 'ADMIN', optional: true } } },
  ],
  securityContext: { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  ports: [{ name: 'http', containerPort: 8080 }],
  readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
};
const deployment = (
  c: object,
  volumes: object[] = [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
) => ({
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: {
    template: {
      spec: { securityContext: { runAsUser: 1000, runAsGroup: 1000 }, volumes, containers: [c] },
    },
  },
});

describe('pod spec → podman run', () => {
  it('resolves env like the kubelet: envFrom, then env; Secret data decoded; optional keys skipped', () => {
    expect(resolveEnv([configMap, secret], container)).toEqual({
      PORT: '8080',
      A: 'overrides',
      DATABASE_URL: 'mysql://x',
    });
  });

  it('refuses a required key the Secret does not have (the kubelet would not start the pod)', () => {
    const wrong = {
      ...container,
      env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'NOPE' } } }],
    };
    expect(() => resolveEnv([configMap, secret], wrong)).toThrow('Secret s has no key NOPE');
  });

  it('carries user, read-only root, dropped capabilities, emptyDir mounts and ports', () => {
    const run = podmanRun([configMap, secret, deployment(container)], 'Deployment', 'd', 'api');
    expect(run.options).toEqual(
      expect.arrayContaining([
        '--user',
        '1000:1000',
        '--read-only',
        '--read-only-tmpfs=false',
        '--cap-drop',
        'ALL',
      ]),
    );
    expect(run.options).toContain('/tmp:rw,nosuid,nodev,mode=1777,size=64M');
    expect(run).toMatchObject({
      image: 'img:1',
      args: ['api'],
      ports: { http: 8080 },
      readinessPort: 'http',
    });
  });

  it('throws on what it does not translate instead of ignoring it', () => {
    const docs = [configMap, secret];
    expect(() =>
      podmanRun(
        [...docs, deployment({ ...container, workingDir: '/x' })],
        'Deployment',
        'd',
        'api',
      ),
    ).toThrow('untranslated fields workingDir');
    expect(() =>
      podmanRun(
        [...docs, deployment(container, [{ name: 'tmp', hostPath: { path: '/' } }])],
        'Deployment',
        'd',
        'api',
      ),
    ).toThrow('not an emptyDir');
  });
});
