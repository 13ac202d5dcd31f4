import { createRequire } from 'node:module';

type PathToRegexp = (path: unknown, options?: Record<string, unknown>) => unknown;
interface PathToRegexpModule {
  pathToRegexp: PathToRegexp & { cached?: true };
}

/**
 * express-openapi-validator (5.6) finds a request's operation by compiling the document's
 * routes with path-to-regexp, one after the other until one matches, on every request: for
 * `POST /orders`, ten patterns, 3.5% of the api's CPU under single-order load (the profile in
 * docs/PERFORMANCE.md). The routes never change, so each compiled pattern is kept. The
 * validator calls the function through its copy of the module's exports, replaced here;
 * safe to call more than once.
 */
export function cacheOpenApiRoutePatterns(): void {
  const validator = createRequire(require.resolve('express-openapi-validator'));
  const paths = validator('path-to-regexp') as PathToRegexpModule;
  if (paths.pathToRegexp.cached) return;
  const compile = paths.pathToRegexp;
  const compiled = new Map<string, unknown>();
  const cached: PathToRegexp = (path, options = {}) => {
    if (typeof path !== 'string') return compile(path, options);
    // The validator passes { sensitive, strict }; other options would be compiled each time.
    if (Object.keys(options).some((k) => k !== 'sensitive' && k !== 'strict')) {
      return compile(path, options);
    }
    const key = `${path}\0${Boolean(options.sensitive)}\0${Boolean(options.strict)}`;
    let result = compiled.get(key);
    if (result === undefined) compiled.set(key, (result = compile(path, options)));
    return result;
  };
  paths.pathToRegexp = Object.assign(cached, { cached: true as const });
}
