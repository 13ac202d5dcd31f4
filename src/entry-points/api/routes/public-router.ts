import path from 'node:path';
import { Router } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { docsHeaders } from '../middleware/security-headers';

/** The swagger-ui-dist files PAGE loads; nothing else of the package is served. */
const ASSETS = ['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png'];

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>order-service API</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body></html>`;

// A file, not an inline script, so helmet's Content-Security-Policy can stay strict.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });`;

/** `/ping`, `/openapi.json` (the document that drives validation) and Swagger UI at `/docs`. */
export function publicRouter(document: object): Router {
  const router = Router();
  router.get('/ping', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use('/docs', docsHeaders);
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('js').send(INIT);
  });
  const root = getAbsoluteFSPath();
  for (const file of ASSETS) {
    router.get(`/docs/${file}`, (_req, res) => {
      res.sendFile(path.join(root, file));
    });
  }
  return router;
}
