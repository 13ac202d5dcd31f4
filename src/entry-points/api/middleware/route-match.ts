import type { RequestHandler } from 'express';
import { AppError } from '../../../lib/app-error';

interface Route {
  /** Express-style template (`/orders/:order_id`), the metrics' route label. */
  template: string;
  pattern: RegExp;
  /** Upper-case methods, HEAD included wherever GET is. */
  methods: Set<string>;
  /** Methods whose operation declares a JSON request body, with its description. */
  withBody: Map<string, string>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/**
 * Matches the request against the OpenAPI document's paths before anything costly runs, so an
 * unknown route is a 404 and a wrong method a 405 even for unauthenticated clients, while
 * authentication still comes before the body is read and validated.
 */
export function routeMatch(document: { paths?: Record<string, Record<string, unknown>> }) {
  const routes: Route[] = Object.entries(document.paths ?? {})
    .map(([path, item]) => {
      const methods = new Set(METHODS.filter((m) => m in item).map((m) => m.toUpperCase()));
      if (methods.has('GET')) methods.add('HEAD');
      const withBody = new Map(
        METHODS.flatMap((m) => {
          const body = (item[m] as { requestBody?: { description?: string } })?.requestBody;
          return body ? [[m.toUpperCase(), body.description ?? 'a JSON object'] as const] : [];
        }),
      );
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      return {
        template: path.replace(/\{([^}]+)\}/g, ':$1'),
        pattern: new RegExp(`^${source}/?$`),
        methods,
        withBody,
      };
    })
    // Literal paths win over templated ones (`/customers/summaries` over `/customers/{id}/…`).
    .sort((a, b) => (a.template.match(/:/g)?.length ?? 0) - (b.template.match(/:/g)?.length ?? 0));

  const handler: RequestHandler = (req, res, next) => {
    const route = routes.find((r) => r.pattern.test(req.path));
    if (!route)
      return next(new AppError('not-found', `No route ${req.method} ${truncate(req.path)}.`));
    res.locals.route = route.template;
    if (!route.methods.has(req.method)) {
      const allow = [...route.methods].filter((m) => m !== 'HEAD').join(', ');
      return next(
        new AppError('method-not-allowed', `${req.method} is not allowed here.`, {
          headers: { Allow: allow },
        }),
      );
    }
    res.locals.expectsBody = route.withBody.has(req.method);
    res.locals.bodyShape = route.withBody.get(req.method);
    next();
  };
  return handler;
}

function truncate(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
