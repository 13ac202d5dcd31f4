import { helmTemplate } from './helpers/render';

const minimal = ['charts/order-service/ci/minimal-values.yaml'];

function templateError(set: Record<string, string | number | boolean>): string {
  const result = helmTemplate({ valuesFiles: minimal, set });
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain("values don't meet the specifications of the schema");
  return result.stderr;
}

describe('values.schema.json', () => {
  it('accepts the minimal values', () => {
    expect(helmTemplate({ valuesFiles: minimal }).status).toBe(0);
  });

  it('rejects an unknown key next to a known one (api.replicas beside api.replicaCount)', () => {
    expect(templateError({ 'api.replicaCount': 2, 'api.replicas': 3 })).toMatch(/replicas/);
  });

  it.each([
    ['a misspelt top-level group', 'ingres.enabled', true],
    ['a misspelt nested key', 'ingress.tls.secretname', 'x'],
    ['a misspelt worker key', 'worker.keda.listname', 'x'],
    ['a misspelt metrics key', 'metrics.serviceMonitor.additionalLabel.release', 'x'],
  ])('rejects %s (%s)', (_what, key, value) => {
    expect(templateError({ [key]: value })).toMatch(/additional propert|not allowed/i);
  });

  // api and worker share one definition; each still refuses the other's keys.
  it.each([
    ['a misspelt key the components share', 'worker.replicas', 3, /replicas/],
    ['a misspelt probe key', 'api.livenessProbe.period', 3, /period/],
    ['a worker-only key under api', 'api.keda.enabled', true, /api\/keda/],
    ['an api-only key under worker', 'worker.autoscaling.enabled', true, /worker\/autoscaling/],
    ['an api service key under worker', 'worker.service.port', 80, /port/],
  ])('rejects %s (%s)', (_what, key, value, message) => {
    expect(templateError({ [key]: value })).toMatch(message);
  });

  it('rejects a wrongly typed value', () => {
    expect(templateError({ 'api.replicaCount': 'two' })).toMatch(/replicaCount/);
  });

  it('rejects TRUST_PROXY=true, which express-rate-limit refuses', () => {
    expect(templateError({ 'config.trustProxy': 'true' })).toMatch(/trustProxy/);
  });

  it('rejects a JWT secret shorter than 32 bytes', () => {
    expect(templateError({ 'auth.jwtSecret': 'too-short' })).toMatch(/jwtSecret/);
  });

  // ('{orders}', a hash tag, is valid too, but --set reads braces as a list.)
  it.each(['orders.eu', ''])('accepts the Redis prefix "%s"', (prefix) => {
    expect(helmTemplate({ valuesFiles: minimal, set: { 'redis.prefix': prefix } }).status).toBe(0);
  });

  it('rejects a Redis prefix with a colon, which would nest inside BullMQ keys', () => {
    expect(templateError({ 'redis.prefix': 'orders:eu' })).toMatch(/prefix/);
  });

  it('rejects an unknown preStop mode', () => {
    expect(templateError({ 'api.preStop.mode': 'wait' })).toMatch(/preStop/);
  });
});
