import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** api/openapi.yaml sits at the same depth from src/ and from dist/. */
export const OPENAPI_PATH = path.resolve(__dirname, '../../../api/openapi.yaml');

export function loadOpenApiDocument(): Record<string, unknown> {
  return parse(readFileSync(OPENAPI_PATH, 'utf8'));
}

/** The `limit` parameter's declared default: the page size when a client names none. */
export function defaultPageSize(document: Record<string, unknown>): number {
  const { components } = document as {
    components?: { parameters?: { Limit?: { schema?: { default?: unknown } } } };
  };
  const size = components?.parameters?.Limit?.schema?.default;
  if (typeof size !== 'number' || !Number.isInteger(size)) {
    throw new Error('api/openapi.yaml: components.parameters.Limit needs an integer default');
  }
  return size;
}
