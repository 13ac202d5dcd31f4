import { find, render, RELEASE } from './helpers/render';

/*
 * The event streams (Server-Sent Events) must pass the edge unbuffered and without a read
 * timeout shorter than their life: their own Ingress with ingress-nginx annotations, and their
 * own HTTPRoute rule with Gateway API timeouts.
 */
const objects = render({ valuesFiles: ['charts/order-service/ci/production-values.yaml'] });

interface Rule {
  matches: { path: { type: string; value: string } }[];
  timeouts?: { request?: string };
  backendRefs: { name: string; port: number }[];
}

describe('event streams at the edge', () => {
  it('get an Ingress of their own with buffering off and a long read timeout', () => {
    const ingress = find<{
      spec: { rules: { host: string; http: { paths: { path: string; pathType: string }[] } }[] };
    }>(objects, 'Ingress', `${RELEASE}-events`);
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600',
      'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600',
    });
    expect(ingress.spec.rules[0]!.http.paths).toEqual([
      expect.objectContaining({ path: '/events', pathType: 'Exact' }),
      expect.objectContaining({
        path: '/orders/[^/]+/events$',
        pathType: 'ImplementationSpecific',
      }),
    ]);
    // The main Ingress keeps its buffering and timeouts for everything else.
    const main = find(objects, 'Ingress', RELEASE);
    expect(main.metadata.annotations).not.toHaveProperty(
      'nginx.ingress.kubernetes.io/proxy-buffering',
    );
  });

  it('get an HTTPRoute rule of their own with the request timeout off, before the catch-all', () => {
    const route = find<{ spec: { rules: Rule[] } }>(objects, 'HTTPRoute', RELEASE);
    const [events, rest] = route.spec.rules;
    expect(events!.matches.map((m) => m.path)).toEqual([
      { type: 'Exact', value: '/events' },
      { type: 'RegularExpression', value: '/orders/[^/]+/events' },
    ]);
    expect(events!.timeouts).toEqual({ request: '0s' });
    expect(events!.backendRefs).toEqual(rest!.backendRefs);
    expect(rest!.timeouts).toBeUndefined();
  });

  it('can be turned off', () => {
    const off = render({
      valuesFiles: ['charts/order-service/ci/production-values.yaml'],
      set: { 'ingress.eventStreams.enabled': false, 'httpRoute.eventStreams.enabled': false },
    });
    expect(() => find(off, 'Ingress', `${RELEASE}-events`)).toThrow();
    expect(find<{ spec: { rules: Rule[] } }>(off, 'HTTPRoute', RELEASE).spec.rules).toHaveLength(1);
  });
});
