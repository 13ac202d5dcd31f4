/**
 * The one error type of the service. Domain code throws it; the HTTP error middleware maps
 * `code` to status and problem `type` through PROBLEMS, the only such table.
 */
export type ErrorCode =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'duplicate-order'
  | 'invalid-transition'
  | 'idempotency-in-flight'
  | 'precondition-failed'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'idempotency-key-reused'
  | 'rate-limited'
  | 'dependency-unavailable'
  | 'overloaded'
  | 'internal';

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  errors?: FieldError[];
  headers?: Record<string, string>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

export const PROBLEMS: Record<ErrorCode, { status: number; title: string }> = {
  validation: { status: 400, title: 'Request validation failed' },
  unauthenticated: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Forbidden' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  'duplicate-order': { status: 409, title: 'Order already exists' },
  'invalid-transition': { status: 409, title: 'Invalid status transition' },
  'idempotency-in-flight': {
    status: 409,
    title: 'A request with this Idempotency-Key is in flight',
  },
  'precondition-failed': { status: 412, title: 'Precondition failed' },
  'payload-too-large': { status: 413, title: 'Payload too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': {
    status: 422,
    title: 'Idempotency-Key reused with a different request',
  },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'dependency-unavailable': { status: 503, title: 'Service unavailable' },
  overloaded: { status: 503, title: 'Service overloaded' },
  internal: { status: 500, title: 'Internal server error' },
};

export const PROBLEM_TYPE_BASE = 'https://order-service.dev/problems/';
