import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** api/openapi.yaml sits at the same depth from src/ and from dist/. */
export const OPENAPI_PATH = path.resolve(__dirname, '../../../api/openapi.yaml');

export function loadOpenApiDocument(): Record<string, unknown> {
  return parse(readFileSync(OPENAPI_PATH, 'utf8'));
}
