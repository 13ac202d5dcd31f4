import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../../../lib/logger';
import type { Metrics } from '../../../lib/metrics';

/**
 * One access log line and the HTTP metrics per request. The route label is Express's matched
 * template (`/orders/:order_id`), never the raw path; unmatched requests count as `unmatched`.
 */
export function observe(logger: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = {
        method: req.method,
        route: routeOf(req, res),
        status_code: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      // An event stream lasts as long as its client stays: not a latency.
      const stream = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
      if (!stream) metrics.httpDuration.observe(labels, seconds);
      // 'finish' fires outside the request's async context, so the id is added here.
      logger.info('request', {
        request_id: res.locals.requestId,
        ...labels,
        // As resolved through TRUST_PROXY: the real client behind the ingress, never a header
        // an untrusted hop made up.
        ip: req.ip,
        protocol: req.protocol,
        duration_ms: Math.round(seconds * 1e4) / 10,
      });
    });
    next();
  };
}

/** Express's matched route, else the OpenAPI template routeMatch found (requests that failed
 *  auth or validation never reach a route), else `unmatched`. */
function routeOf(req: Request, res: Response): string {
  const path = req.route?.path;
  if (typeof path === 'string') return req.baseUrl + path;
  return (res.locals.route as string | undefined) ?? 'unmatched';
}
