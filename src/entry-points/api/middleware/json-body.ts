import express, { RequestHandler } from 'express';
import { AppError } from '../../../lib/app-error';

const parse = express.json({ limit: '1mb', strict: false });

/**
 * JSON bodies for the operations that declare one (routeMatch marks them): the media type is
 * checked first, then the parsed value must be an object or an array. Scalars are parsed
 * (`strict: false`) only to answer them with what to send instead of "not valid JSON".
 */
export const jsonBody: RequestHandler = (req, res, next) => {
  if (!res.locals.expectsBody) return next();
  const shape = (res.locals.bodyShape as string | undefined) ?? 'a JSON object';
  // `curl -X POST` sends no body at all, some clients `Content-Length: 0`: both are no body.
  if (req.headers['content-length'] === '0' || req.is('application/json') === null) {
    return next(new AppError('validation', `The body must be ${shape}.`));
  }
  if (req.is('application/json') === false) {
    return next(new AppError('unsupported-media-type', 'Content-Type must be application/json.'));
  }
  parse(req, res, (err?: unknown) => {
    if (err) return next(err);
    const body: unknown = req.body;
    if (body === null || typeof body !== 'object') {
      return next(new AppError('validation', `The body must be ${shape}.`));
    }
    next();
  });
};
