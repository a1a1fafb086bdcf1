import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIpa } from '../../src/sample/builder.js';
import { ensureWebBuilt, HAVE_CHROMIUM, launchBrowser, poll, type RunningServer, startServer } from './harness.js';

const LONG = 60_000;

/** Chooses the .ipa on the new-deploy page and waits for its preflight findings. */
async function upload(page: Page, server: RunningServer, file: string) {
  await page.goto(`${server.url}/deploys/new`);
  await page.getByLabel('Build (.ipa)').setInputFiles(file);
  await poll(() => page.getByRole('heading', { name: 'Preflight' }).count(), { timeout: LONG }).toBe(1);
}

async function stateOf(page: Page): Promise<string> {
  return (await page.getByRole('status').first().textContent()) ?? '';
}

describe.skipIf(!HAVE_CHROMIUM)(
  'dashboard: deploy from the browser (Chromium, real sandbox server)',
  { timeout: 120_000 },
  () => {
    let server: RunningServer;
    let browser: { browser: Browser; close(): Promise<void> };
    let owner: Page;
    let ipas: string[];

    beforeAll(async () => {
      ensureWebBuilt();
      [server, browser] = await Promise.all([startServer(), launchBrowser()]);
      ipas = [];
      for (const [version, build] of [
        ['1.1.0', '201'],
        ['1.1.0', '202'],
        ['1.2.0', '203'],
      ] as const) {
        const f = join(server.dir, `Sample-${build}.ipa`);
        await buildIpa(f, { bundleId: 'com.example.sandbox.one', version, build, appName: 'Sandbox One' });
        ipas.push(f);
      }
      // A build of an app the team's key does not have at Apple.
      const unknown = join(server.dir, 'Unknown.ipa');
      await buildIpa(unknown, {
        bundleId: 'com.example.not.registered',
        version: '1.0.0',
        build: '1',
        appName: 'Unknown',
      });
      ipas.push(unknown);
      owner = await (await browser.browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      await owner.goto(server.signInLink);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    it('uploads the build with progress, shows findings and Apple’s groups, deploys it and follows it to the end', async () => {
      await owner.goto(`${server.url}/deploys/new`);
      await owner.getByLabel('Build (.ipa)').setInputFiles(join(server.data, 'sandbox', 'Sample.ipa'));
      await poll(() => owner.getByRole('heading', { name: 'Preflight' }).count(), { timeout: LONG }).toBe(1);
      expect(await owner.getByText(/com\.example\.sandbox\.one/).count()).toBeGreaterThan(0);
      // The groups come from Apple (the sandbox's seed), not from the build.
      const internal = owner.getByRole('checkbox', { name: /Internal Testers/ });
      await poll(() => internal.count(), { timeout: LONG }).toBe(1);
      expect(await owner.getByRole('checkbox', { name: /External Testers/ }).count()).toBe(1);
      await internal.check();
      await owner.getByLabel('What to Test').fill('The new onboarding');
      await owner.getByRole('button', { name: 'Deploy', exact: true }).click();
      await poll(() => new URL(owner.url()).pathname).toMatch(/^\/deploys\/\w+$/);
      await owner.getByRole('table', { name: 'Steps' }).waitFor();
      // Layout shifts from here on, as the browser measures them (Layout Instability API).
      await owner.evaluate(`window.shifts = 0;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) if (!e.hadRecentInput) window.shifts += e.value;
        }).observe({ type: 'layout-shift' });`);
      await poll(() => stateOf(owner), { timeout: LONG }).toBe('succeeded');
      // Nothing on the page moved while the steps, progress and log streamed in.
      expect(await owner.evaluate<number>('window.shifts')).toBe(0);
      const rows = await owner.getByRole('table', { name: 'Steps' }).getByRole('row').allTextContents();
      expect(rows.some((r) => /upload/i.test(r) && /done|succeeded|ok/i.test(r))).toBe(true);
      expect(await owner.getByRole('progressbar', { name: 'Upload to Apple' }).getAttribute('value')).toBe('100');
      expect(await owner.getByRole('log').textContent()).not.toBe('');
    });

    it('dry run: shows the plan and changes nothing', async () => {
      await upload(owner, server, ipas[0]!);
      await owner.getByRole('checkbox', { name: /Internal Testers/ }).check();
      await owner.getByRole('button', { name: /Dry run/ }).click();
      await poll(() => stateOf(owner), { timeout: LONG }).toBe('succeeded');
      expect(await owner.getByText('dry run: nothing is changed at Apple').count()).toBe(1);
      // The plan is each step's detail: what it would do, nothing done.
      const steps = (await owner.getByRole('table', { name: 'Steps' }).textContent()) ?? '';
      expect(steps).toMatch(/planned.*would upload Sample-201\.ipa \(0\.0 MB\) as 1\.1\.0 \(201\)/);
      expect(steps).not.toContain(server.data);
      expect(steps).not.toMatch(/\bdone\b/);
    });

    it('waits for a second admin to approve the review submission; the approval is in the audit log', async () => {
      // The policy, set from the settings page.
      await owner.goto(`${server.url}/settings`);
      await owner.getByRole('checkbox', { name: /before submitting a version for App Review/ }).check();
      await owner.getByRole('button', { name: 'Save settings' }).click();
      await poll(() => owner.getByText('Saved.').count()).toBe(1);
      // A second admin, added from the team page with a one-time link.
      await owner.goto(`${server.url}/team`);
      await owner.getByLabel('E-mail').fill('second@example.com');
      await owner.getByLabel('Member role').selectOption('admin');
      await owner.getByRole('button', { name: 'Add member' }).click();
      const link = await owner.getByLabel('Sign-in link for the new member').inputValue();
      expect(link).toMatch(/\/sign-in\/\S+$/);

      await upload(owner, server, ipas[1]!);
      await owner.getByRole('checkbox', { name: /Internal Testers/ }).check();
      await owner.getByRole('checkbox', { name: /Prepare the App Store version/ }).check();
      await owner.getByRole('checkbox', { name: /Submit for App Review/ }).check();
      await owner.getByRole('button', { name: 'Deploy', exact: true }).click();
      await poll(() => stateOf(owner), { timeout: LONG }).toBe('awaiting approval');
      const deployPath = new URL(owner.url()).pathname;
      // The person who started it cannot approve it.
      await owner.getByRole('button', { name: 'Approve' }).click();
      await poll(() => owner.getByRole('alert').first().textContent()).toMatch(/PERMISSION_DENIED/);

      const second = await (await browser.browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
      await second.goto(link);
      await second.goto(`${server.url}${deployPath}`);
      await poll(() => stateOf(second)).toBe('awaiting approval');
      await second.getByRole('button', { name: 'Approve' }).click();
      await poll(() => stateOf(second), { timeout: LONG }).toBe('succeeded');
      expect(await second.getByRole('log').textContent()).toMatch(/approved submitReview/);

      await second.goto(`${server.url}/audit`);
      const approve = second.getByRole('row').filter({ hasText: 'deploy.approve' });
      await poll(() => approve.filter({ hasText: 'success' }).count()).toBe(1);
      expect(await approve.filter({ hasText: 'denied' }).count()).toBe(1);
      await second.context().close();
    });

    it('cancels a deploy, retries it, cancels it again; it shows in the history filtered by state', async () => {
      // Held before its beta review by the team's policy, so it is still there to cancel.
      await owner.goto(`${server.url}/settings`);
      await owner.getByRole('checkbox', { name: /before submitting a build for external beta review/ }).check();
      await owner.getByRole('button', { name: 'Save settings' }).click();
      await poll(() => owner.getByText('Saved.').count()).toBe(1);
      await upload(owner, server, ipas[2]!);
      await owner.getByRole('checkbox', { name: /External Testers/ }).check();
      await owner.getByRole('checkbox', { name: /Submit for external beta review/ }).check();
      await owner.getByRole('button', { name: 'Deploy', exact: true }).click();
      await poll(() => stateOf(owner), { timeout: LONG }).toBe('awaiting approval');
      await owner.getByRole('button', { name: 'Cancel deploy' }).click();
      await poll(() => stateOf(owner)).toBe('cancelled');
      const id = new URL(owner.url()).pathname.split('/').pop()!;
      // Retry queues it again; it resumes from its saved steps and waits at the same gate.
      await owner.getByRole('button', { name: 'Retry' }).click();
      await poll(() => stateOf(owner), { timeout: LONG }).toBe('awaiting approval');
      await owner.getByRole('button', { name: 'Cancel deploy' }).click();
      await poll(() => stateOf(owner)).toBe('cancelled');

      await owner.getByRole('link', { name: 'All deploys' }).click();
      await owner.getByLabel('State').selectOption('cancelled');
      // Only the cancelled one (a header row and one deploy), after the filtered page arrives.
      await poll(() => owner.getByRole('row').count()).toBe(2);
      expect(await owner.getByRole('link', { name: id }).count()).toBe(1);
    });

    it('a failed deploy says what went wrong and how to fix it', async () => {
      await upload(owner, server, ipas[3]!);
      await owner.getByRole('button', { name: 'Deploy', exact: true }).click();
      await poll(() => stateOf(owner), { timeout: LONG }).toBe('failed');
      const alert = (await owner.getByRole('alert').first().textContent()) ?? '';
      expect(alert).toMatch(/com\.example\.not\.registered/);
      expect(alert).toMatch(/\[[A-Z_]+\]Fix: \S+/);
      expect(await owner.getByRole('button', { name: 'Retry' }).count()).toBe(1);
    });
  },
);
