import { CATALOGUE, EXIT } from '../core/errors.js';
import { CHECKS } from '../ipa/preflight.js';

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
  [EXIT.doctor]: '`ascend doctor` found something broken or expired (a finding of severity error)',
  [EXIT.interrupted]: 'interrupted (Ctrl-C or SIGTERM; state saved, run again to continue)',
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
    '## Preflight checks',
    '',
    'Findings of `ascend ipa inspect` and of the checks before an upload. An error stops the command with exit 6',
    '(`PREFLIGHT_FAILED`) before anything is created in App Store Connect; a warning is shown and work goes on.',
    '',
    '| check | fix |',
    '|---|---|',
    ...Object.entries(CHECKS).map(([code, fix]) => `| \`${code}\` | ${fix.replace(/\|/g, '\\|')} |`),
    '',
  ];
  return lines.join('\n');
}
