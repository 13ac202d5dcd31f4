import { AppError } from './app-error';

/** Opaque pagination cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity && key.every((k) => typeof k === 'string')) {
      return key as string[];
    }
  } catch {
    // fall through to the 400 below
  }
  throw new AppError('validation', 'The cursor is not one this API returned.', {
    errors: [{ path: '/cursor', message: 'is not a valid cursor' }],
  });
}
