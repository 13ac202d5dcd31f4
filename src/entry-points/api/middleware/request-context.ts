import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { runWithContext } from '../../../lib/request-context';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Echoes a sane client X-Request-Id (or makes one) and carries it into every log line. */
export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const sent = req.get('x-request-id');
    const requestId = sent && CLIENT_ID.test(sent) ? sent : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    const traceparent = req.get('traceparent');
    runWithContext({ request_id: requestId, ...(traceparent ? { traceparent } : {}) }, next);
  };
}
