import type { ErrorRequestHandler, Response } from 'express';
import {
  AppError,
  ErrorCode,
  FieldError,
  PROBLEMS,
  PROBLEM_TYPE_BASE,
} from '../../../lib/app-error';
import type { Logger } from '../../../lib/logger';
import { unavailableDependency } from '../../../data-access/dependency-errors';

/** body-parser and express-openapi-validator report by HTTP status; these are the ones we map. */
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

interface ForeignError {
  status?: number;
  headers?: Record<string, string>;
  type?: string;
  code?: string;
  name?: string;
  message?: string;
  errors?: { path?: string; message?: string }[];
}

/** Turns any error into our one error type. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = (err ?? {}) as ForeignError;
  // MySQL or Redis unreachable, stalled or without quorum: 503, never 500.
  const dependency = unavailableDependency(err);
  if (dependency) {
    return new AppError('dependency-unavailable', `${dependency} is unavailable; retry shortly.`, {
      headers: { 'Retry-After': '5' },
      cause: err,
    });
  }
  if (e.type === 'entity.parse.failed') {
    return new AppError('validation', 'The body is not valid JSON.', { cause: err });
  }
  if (e.type === 'entity.too.large') {
    return new AppError('payload-too-large', 'The body is larger than 1 MiB.', { cause: err });
  }
  const code = e.status !== undefined ? BY_STATUS[e.status] : undefined;
  if (code === 'validation') {
    // The validator joins every error into its message, megabytes for a hostile batch: the
    // detail is one sentence of ours instead.
    const errors = fieldErrors(e.errors);
    const first = errors?.[0];
    const detail = first
      ? `The request is invalid: ${first.path} ${first.message}.`
      : 'The request is invalid.';
    return new AppError(code, detail, { errors, cause: err });
  }
  if (code === 'unsupported-media-type') {
    return new AppError(code, 'Content-Type must be application/json.', { cause: err });
  }
  if (code) {
    return new AppError(code, e.message ?? PROBLEMS[code].title, {
      // The validator's 405 names the allowed methods in an Allow header (RFC 9110).
      headers: code === 'method-not-allowed' ? e.headers : undefined,
      cause: err,
    });
  }
  return new AppError('internal', 'An unexpected error occurred.', { cause: err });
}

/**
 * Validator paths look like `/body/3/items/0/quantity`; clients see body paths relative to the
 * body. A batch fails the single-order branch of the oneOf too; that noise is dropped.
 */
function fieldErrors(errors: ForeignError['errors']): FieldError[] | undefined {
  if (!errors) return undefined;
  const all = errors.map((x) => ({
    path: (x.path ?? '').replace(/^\/body(?=\/|$)/, '') || '/',
    message: x.message ?? 'is invalid',
  }));
  const specific = all.filter(
    (x) => !/must match exactly one schema in oneOf|^must be (object|array)$/.test(x.message),
  );
  return specific.length > 0 ? specific : all;
}

/** A problem body stays small whatever the input: at most this many errors, each bounded. */
export const MAX_FIELD_ERRORS = 20;
const MAX_TEXT = 200;

export function sendProblem(res: Response, error: AppError): void {
  const { status, title } = PROBLEMS[error.code];
  for (const [name, value] of Object.entries(error.headers ?? {})) res.setHeader(name, value);
  const errors = error.errors?.slice(0, MAX_FIELD_ERRORS).map((x) => ({
    path: bounded(x.path),
    message: bounded(x.message),
  }));
  const omitted = (error.errors?.length ?? 0) - (errors?.length ?? 0);
  res
    .status(status)
    .type('application/problem+json')
    .json({
      type: PROBLEM_TYPE_BASE + error.code,
      title,
      status,
      detail: bounded(error.message),
      request_id: res.locals.requestId,
      ...(errors ? { errors } : {}),
      ...(omitted > 0 ? { errors_omitted: omitted } : {}),
    });
}

function bounded(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const error = toAppError(err);
    if (error.code === 'internal') {
      logger.error('unhandled error', {
        error: (err as Error)?.message,
        stack: (err as Error)?.stack,
      });
    } else if (error.code === 'dependency-unavailable') {
      logger.warn('dependency unavailable', { error: (err as Error).message });
    }
    sendProblem(res, error);
  };
}
