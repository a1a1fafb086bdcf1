import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared third-party fixtures, read in place (never copied); tests skip with a note when absent. */
export const THIRD_PARTY = resolve(
  fileURLToPath(new URL('.', import.meta.url)),
  '../../../shared/fixtures/third-party',
);
export const hasThirdParty = existsSync(THIRD_PARTY);
export const thirdParty = (...p: string[]) => join(THIRD_PARTY, ...p);

if (!hasThirdParty) {
  console.warn(`note: ${THIRD_PARTY} is absent; tests over third-party fixtures are skipped`);
}
