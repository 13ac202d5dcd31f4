import { Harness, startHarness } from '../helpers/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
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
