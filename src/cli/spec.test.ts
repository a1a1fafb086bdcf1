import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defineCommands } from './spec.js';

// Commands whose files other areas own keep their own signatures for now.
const NOT_OURS = new Set(['deploy.ts', 'upload.ts', 'demo.ts', 'ipa-inspect.ts']);

describe('command options', () => {
  it('commands take the option types commander infers: no untyped options, no casts of options or arguments', () => {
    const dir = new URL('./commands/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !NOT_OURS.has(f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    for (const file of files) {
      const src = readFileSync(new URL(file, dir), 'utf8');
      expect(src, file).not.toMatch(/opts: Record<string, unknown>|args: unknown\[\]/);
      expect(src, file).not.toMatch(/\b(opts|args)(\.\w+|\[\d+\])?\s+as\s/);
      expect(src, file).not.toMatch(/String\(opts\.|String\(args\[/);
    }
  });

  it('every subcommand help lists the global key options and --api-url', () => {
    const c = defineCommands();
    for (const [name, cmd] of Object.entries(c)) {
      if (name === 'program') continue;
      const help = cmd.helpInformation();
      for (const opt of ['--key-id', '--issuer-id', '--private-key', '--api-url']) expect(help, name).toContain(opt);
    }
  });
});
