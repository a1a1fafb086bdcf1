import { CATALOGUE, EXIT } from './errors.js';

const EXIT_NAMES: Record<number, string> = {
  [EXIT.ok]: 'success',
  [EXIT.bug]: 'anything else (a bug)',
  [EXIT.usage]: 'usage',
  [EXIT.auth]: 'authentication / authorisation',
  [EXIT.notFound]: 'not found',
  [EXIT.conflict]: 'conflict / state',
  [EXIT.validation]: 'local validation',
  [EXIT.rejected]: 'Apple rejected / processing failed',
  [EXIT.deadline]: 'deadline passed',
  [EXIT.network]: 'network or server failure after retries',
  [EXIT.rateLimit]: 'rate limit exhausted',
};

/** docs/ERRORS.md as it must read for the current catalogue (a test compares the two). */
export function renderErrorsDoc(): string {
  const lines = [
    '# ascend error codes',
    '',
    'Every error ascend reports carries one of these codes, a one-line message and the fix. Codes are stable:',
    'a released code is never reused for something else. This page is checked against `src/core/errors.ts` by',
    'a test; regenerate it with `npm run gen:errors`.',
    '',
    '## Exit codes',
    '',
    '| exit | meaning |',
    '|---|---|',
    ...Object.entries(EXIT_NAMES).map(([code, name]) => `| ${code} | ${name} |`),
    '',
    '## Error codes',
    '',
    '| code | exit | remedy |',
    '|---|---|---|',
    ...Object.entries(CATALOGUE).map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.remedy.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}
