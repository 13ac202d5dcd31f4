import type { Request, RequestHandler } from 'express';
import { AppError } from '../../../lib/app-error';

interface Route {
  /** Express-style template (`/orders/:order_id`), the metrics' route label. */
  template: string;
  pattern: RegExp;
  /** Upper-case methods, HEAD included wherever GET is. */
  methods: Set<string>;
  /** Methods whose operation declares a JSON request body, with its description. */
  withBody: Map<string, string>;
  /** Methods whose operation needs credentials (its `security`, or the document's). */
  secured: Set<string>;
}

interface Operation {
  requestBody?: { description?: string };
  security?: unknown[];
}

interface Document {
  paths?: Record<string, Record<string, unknown>>;
  security?: unknown[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];

/** The OpenAPI document's paths, compiled once: what a request may be before anything runs. */
export function createRouteTable(document: Document) {
  const routes: Route[] = Object.entries(document.paths ?? {})
    .map(([path, item]) => {
      const methods = new Set(METHODS.filter((m) => m in item).map((m) => m.toUpperCase()));
      if (methods.has('GET')) methods.add('HEAD');
      // HEAD is served by the GET operation where the document declares no HEAD.
      const operation = (m: string) =>
        (item[m] ?? (m === 'head' ? item.get : undefined)) as Operation | undefined;
      const withBody = new Map(
        METHODS.flatMap((m) => {
          const body = operation(m)?.requestBody;
          return body ? [[m.toUpperCase(), body.description ?? 'a JSON object'] as const] : [];
        }),
      );
      const secured = new Set(
        [...methods].filter(
          (m) => (operation(m.toLowerCase())?.security ?? document.security ?? []).length > 0,
        ),
      );
      const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
      return {
        template: path.replace(/\{([^}]+)\}/g, ':$1'),
        pattern: new RegExp(`^${source}/?$`),
        methods,
        withBody,
        secured,
      };
    })
    // Literal paths win over templated ones (`/customers/summaries` over `/customers/{id}/…`).
    .sort((a, b) => (a.template.match(/:/g)?.length ?? 0) - (b.template.match(/:/g)?.length ?? 0));

  return {
    find: (path: string): Route | undefined => routes.find((r) => r.pattern.test(path)),
    /** Whether the request is for an operation that needs credentials. */
    needsCredentials(req: Request): boolean {
      return routes.find((r) => r.pattern.test(req.path))?.secured.has(req.method) ?? false;
    },
  };
}

export type RouteTable = ReturnType<typeof createRouteTable>;

/**
 * Matches the request against the OpenAPI document's paths before anything costly runs, so an
 * unknown route is a 404 and a wrong method a 405 even for unauthenticated clients, while
 * authentication still comes before the body is read and validated.
 */
export function routeMatch(table: RouteTable) {
  const handler: RequestHandler = (req, res, next) => {
    const route = table.find(req.path);
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
