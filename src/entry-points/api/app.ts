import express, { Express, Router } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { OpenAPIV3 } from 'express-openapi-validator/dist/framework/types';
import type { Logger } from '../../lib/logger';
import type { Metrics } from '../../lib/metrics';
import type { Readiness } from '../../lib/readiness';
import type { Authentication } from '../../domain/authentication';
import type { createReadCustomers } from '../../domain/read-customers';
import type { ManageApiKeys } from '../../domain/manage-api-keys';
import type { ManageWebhooks } from '../../domain/manage-webhooks';
import type { RateLimits } from './middleware/rate-limit';
import { createAuthenticate } from './middleware/authenticate';
import { clientAddress } from './middleware/client-address';
import { errorHandler } from './middleware/error-handler';
import { jsonBody } from './middleware/json-body';
import { createRouteTable, routeMatch } from './middleware/route-match';
import { observe } from './middleware/observe';
import { requestContext } from './middleware/request-context';
import { apiHeaders, corsFor, noStore } from './middleware/security-headers';
import { apiKeysRouter } from './routes/api-keys-router';
import { authRouter } from './routes/auth-router';
import { customersRouter } from './routes/customers-router';
import { publicRouter } from './routes/public-router';
import { healthRouter } from './routes/health-router';
import { ordersRouter, OrdersRouterDeps } from './routes/orders-router';
import { webhooksRouter } from './routes/webhooks-router';
import { defaultPageSize, loadOpenApiDocument } from './openapi-document';
import { cacheOpenApiRoutePatterns } from './openapi-route-cache';

export interface AppDeps extends OrdersRouterDeps {
  trustProxy: number | string[] | false;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  auth: Authentication;
  readCustomers: ReturnType<typeof createReadCustomers>;
  manageApiKeys: ManageApiKeys;
  manageWebhooks: ManageWebhooks;
  rateLimits: RateLimits;
  /** GET /events and GET /orders/{order_id}/events (Server-Sent Events). */
  eventsRouter: Router;
  /** Origins allowed by CORS; empty keeps CORS closed. */
  corsOrigins: string[];
  /** Tests turn this on so every response is checked against the OpenAPI document. */
  validateResponses?: boolean;
}

/** The HTTP API, without listening: main.ts and the tests both build it from their deps. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  const document = loadOpenApiDocument();
  const routes = createRouteTable(document);
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use(clientAddress);
  app.use(requestContext());
  app.use(observe(deps.logger, deps.metrics));
  app.use(apiHeaders);
  app.use(healthRouter(deps.readiness));
  // Per IP for every request; for a token or cached Basic credentials also per user and the
  // failed-login limits, in the same Redis call (the principal is then known already).
  app.use(deps.rateLimits.perRequest(routes.needsCredentials));
  const cors = corsFor(deps.corsOrigins);
  if (cors) app.use(cors);
  app.use(publicRouter(document));
  // Cheap checks first: an unknown route or an unauthenticated client costs no body parsing
  // and no validation (a hostile 156 KB batch once produced a 29 MB list of errors).
  app.use(routeMatch(routes));
  app.use(createAuthenticate(deps.auth, deps.metrics));
  app.use(deps.rateLimits.perPrincipal);
  app.use(noStore);
  app.use(jsonBody);
  cacheOpenApiRoutePatterns();
  app.use(
    OpenApiValidator.middleware({
      apiSpec: document as unknown as OpenAPIV3.DocumentV3_1,
      // The first problem only: collecting every error of a 500-order batch costs seconds of
      // CPU and hundreds of MB, and the answer could list only a few of them anyway.
      validateRequests: { allErrors: false },
      validateResponses: deps.validateResponses ?? false,
      validateSecurity: false,
      validateFormats: true,
    }),
  );
  app.use(authRouter(deps.auth));
  const pageSize = defaultPageSize(document);
  app.use(deps.eventsRouter);
  app.use(ordersRouter(deps, pageSize));
  app.use(customersRouter(deps.readCustomers, pageSize));
  app.use(apiKeysRouter(deps.manageApiKeys, pageSize));
  app.use(webhooksRouter(deps.manageWebhooks, pageSize));
  app.use(errorHandler(deps.logger));
  return app;
}

/** The worker role's HTTP surface: probes only. */
export function createHealthApp(readiness: Readiness): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(healthRouter(readiness));
  return app;
}
