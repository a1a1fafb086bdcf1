import { describe, expect, it } from 'vitest';
import { BuildBody, buildJobKind, defaultWorkerLabels, storedBuildOf, workerBuildKinds } from './build-spec.js';

describe('build spec', () => {
  const ok = { command: ['make'], artifact: 'build/*.ipa', timeout: 60 };
  it('accepts a strict build object and keeps no env value', () => {
    const b = BuildBody.parse({ ...ok, env: { TOKEN: 'secret-value' }, labels: ['xcode', 'macos'], workdir: 'app' });
    expect(storedBuildOf(b)).toEqual({
      command: ['make'],
      workdir: 'app',
      labels: ['macos', 'xcode'],
      artifact: 'build/*.ipa',
      timeoutMs: 60_000,
      envNames: ['TOKEN'],
    });
    expect(JSON.stringify(storedBuildOf(b))).not.toContain('secret-value');
  });
  it.each([
    [{ ...ok, workdir: '../up' }],
    [{ ...ok, workdir: 'a/../../up' }],
    [{ ...ok, workdir: '/abs' }],
    [{ ...ok, artifact: '../x.ipa' }],
    [{ ...ok, artifact: '/x.ipa' }],
    [{ ...ok, timeout: 0 }],
    [{ ...ok, timeout: 21_601 }],
    [{ ...ok, env: { LD_PRELOAD: 'x' } }],
    [{ ...ok, env: { 'BAD-NAME': 'x' } }],
    [{ ...ok, labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] }],
    [{ ...ok, labels: ['Mac OS'] }],
    [{ ...ok, command: [] }],
    [{ ...ok, extra: 1 }],
  ])('refuses %j', (body) => {
    expect(BuildBody.safeParse(body).success).toBe(false);
  });
  it('a worker runs exactly the builds whose labels it has, whatever their order', () => {
    const kinds = workerBuildKinds(['macos', 'xcode']);
    expect(kinds.sort()).toEqual(['build:', 'build:macos', 'build:macos+xcode', 'build:xcode']);
    expect(kinds).toContain(buildJobKind(['xcode', 'macos']));
    expect(kinds).not.toContain(buildJobKind(['macos', 'flutter']));
    expect(workerBuildKinds(['a', 'b', 'c', 'd', 'e', 'f'])).toHaveLength(64);
    expect(() => workerBuildKinds(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toThrow(/at most 6 labels/);
    expect(() => workerBuildKinds(['Bad Label'])).toThrow(/not valid/);
  });
  it('the in-process worker is labelled by its platform', () => {
    expect(defaultWorkerLabels('darwin', ['Xcode16', ' '])).toEqual(['macos', 'xcode16']);
    expect(defaultWorkerLabels('linux')).toEqual(['linux']);
  });
});
