#!/usr/bin/env node
// Rewrites docs/ERRORS.md from the error catalogue (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../dist/src/cli/errors-doc.js';

writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorsDoc());
console.log('docs/ERRORS.md written');
