import { loadOpenApiDocument } from '../../src/entry-points/api/openapi-document';
import { Harness, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  // The webhook example's host does not resolve offline; the allow-list trusts it by name.
  h = await startHarness({ WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com' });
});
afterAll(async () => h.stop());

describe('/docs serves only what the Swagger UI page needs', () => {
  it.each([
    ['/docs', /^text\/html/],
    ['/docs/init.js', /^application\/javascript|^text\/javascript/],
    ['/docs/swagger-ui.css', /^text\/css/],
    ['/docs/swagger-ui-bundle.js', /^application\/javascript|^text\/javascript/],
    ['/docs/favicon-32x32.png', /^image\/png/],
  ])('serves %s', async (url, type) => {
    const res = await h.api.get(url);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(type);
  });

  it.each([
    '/docs/package.json',
    '/docs/index.html',
    '/docs/index.js',
    '/docs/index.css',
    '/docs/absolute-path.js',
    '/docs/swagger-initializer.js',
    '/docs/swagger-ui-bundle.js.map',
    '/docs/swagger-ui.css.map',
    '/docs/swagger-ui.js',
    '/docs/swagger-ui.js.map',
    '/docs/swagger-ui-es-bundle.js',
    '/docs/swagger-ui-standalone-preset.js',
    '/docs/oauth2-redirect.html',
    '/docs/favicon-16x16.png',
    '/docs/README.md',
    '/docs/LICENSE',
    '/docs/log.bundle-sizes.swagger-ui.txt',
  ])('answers 404 for %s', async (url) => {
    const res = await h.api.get(url);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('links every file it serves from the page, and only those', async () => {
    const page = await h.api.get('/docs');
    const links = [...page.text.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]);
    expect(links.sort()).toEqual([
      '/docs/favicon-32x32.png',
      '/docs/init.js',
      '/docs/swagger-ui-bundle.js',
      '/docs/swagger-ui.css',
    ]);
  });
});

interface MediaType {
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  requestBody?: { content: Record<string, MediaType> };
}

/** Every (operation, media type) of api/openapi.yaml that takes a request body. */
function requestBodies() {
  const paths = loadOpenApiDocument().paths as Record<string, Record<string, Operation>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) =>
      Object.entries(operation.requestBody?.content ?? {}).map(([mediaType, media]) => ({
        operation: `${method.toUpperCase()} ${path} (${mediaType})`,
        method,
        path,
        mediaType,
        media,
      })),
    ),
  );
}

function requestBodyExamples() {
  return requestBodies().flatMap(({ operation, media, ...request }) =>
    [
      ...('example' in media ? [{ name: `${operation} example`, value: media.example }] : []),
      ...Object.entries(media.examples ?? {}).map(([name, example]) => ({
        name: `${operation} example "${name}"`,
        value: example.value,
      })),
    ].map((example) => ({ ...example, ...request })),
  );
}

describe('OpenAPI request-body examples, which Swagger UI sends on "Try it out"', () => {
  it.each(requestBodies().map((body) => [body.operation, body.media]))(
    '%s has an example',
    (_operation, media) => {
      expect(media.example !== undefined || Object.keys(media.examples ?? {}).length > 0).toBe(
        true,
      );
    },
  );

  it.each(requestBodyExamples().map((example) => [example.name, example]))(
    '%s is accepted, also when sent a second time',
    async (_name, { method, path, mediaType, value }) => {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const res = await h.api[method as 'post' | 'put' | 'patch'](path)
          .set('Authorization', h.basic('manager'))
          .set('Content-Type', mediaType)
          .send(JSON.stringify(value));
        const accepted = res.status >= 200 && res.status < 300;
        expect(accepted ? undefined : { attempt, status: res.status, body: res.body }).toBe(
          undefined,
        );
      }
    },
  );
});
