import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Where the generated OpenAPI subset lives: beside this file in the source tree, and at the same
 * place relative to the repository root when running from `dist/`.
 */
export function subsetPath(): string {
  for (const rel of ['./openapi-subset.json', '../../../../src/asc/schema/openapi-subset.json']) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error('src/asc/schema/openapi-subset.json is missing; run `npm run gen:schema`');
}

export function readSubset(): unknown {
  return JSON.parse(readFileSync(subsetPath(), 'utf8'));
}

/** Every operation of Apple's OpenAPI file as "METHOD /path" (generated beside the subset). */
export function readOperations(): string[] {
  return JSON.parse(readFileSync(subsetPath().replace(/openapi-subset\.json$/, 'openapi-operations.json'), 'utf8'));
}
