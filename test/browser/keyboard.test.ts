import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, HAVE_CHROMIUM, launchBrowser, poll, type RunningServer, startServer } from './harness.js';

const PAGES = ['/apps', '/deploys/new', '/deploys', '/keys', '/audit', '/team', '/settings', '/alerts'];

/*
 * Scripts run in the page as text: the test's TypeScript has Node's types, not the DOM's.
 */

/** The focused element's accessible label as a screen reader would take it (label, aria-label, or text). */
const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el) return '';
  const byLabel = el.labels && el.labels[0] ? el.labels[0].textContent : null;
  return (el.getAttribute('aria-label') ?? byLabel ?? el.textContent ?? '').trim();
})()`;

/** Every control with no accessible name: no label, no aria-label(ledby), no text. */
const UNLABELLED = `[...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => {
    if (el.type === 'hidden') return false;
    const labelled = el.getAttribute('aria-labelledby');
    const name =
      el.getAttribute('aria-label') ??
      (labelled ? document.getElementById(labelled)?.textContent : null) ??
      (el.labels && el.labels[0] ? el.labels[0].textContent : null) ??
      el.textContent;
    return !name || !name.trim();
  })
  .map((el) => el.outerHTML.slice(0, 120))`;

const focused = (page: Page) => page.evaluate<string>(FOCUSED);
const unlabelled = (page: Page) => page.evaluate<string[]>(UNLABELLED);

describe.skipIf(!HAVE_CHROMIUM)(
  'dashboard: keyboard, labels and widths (Chromium, real sandbox server)',
  { timeout: 120_000 },
  () => {
    let server: RunningServer;
    let browser: { browser: Browser; close(): Promise<void> };
    let page: Page;

    beforeAll(async () => {
      ensureWebBuilt();
      [server, browser] = await Promise.all([startServer(), launchBrowser()]);
      page = await (await browser.browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      await page.goto(server.signInLink);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    it('adds a key with the keyboard alone, in the order Apple’s page gives the facts', async () => {
      await page.goto(`${server.url}/apps`);
      // The page is on screen once the signed-in shell has rendered its navigation.
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Skip to content');
      // To the "API keys" link of the main navigation, and Enter follows it.
      for (let i = 0; i < 12 && (await focused(page)) !== 'API keys'; i++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('API keys');
      await poll(() => page.getByRole('form', { name: 'Add a key' }).count()).toBe(1);

      for (let i = 0; i < 30 && (await focused(page)) !== 'Name'; i++) await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Name');
      const sandbox = join(server.data, 'sandbox');
      const p8 = readdirSync(sandbox).find((f) => /^AuthKey_\w{10}\.p8$/.test(f))!;
      const key = JSON.parse(readFileSync(join(sandbox, 'key.json'), 'utf8')) as { key_id: string; issuer_id: string };
      await page.keyboard.type('Keyboard key');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Key ID');
      await page.keyboard.type(key.key_id);
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Issuer ID');
      await page.keyboard.type(key.issuer_id);
      await page.keyboard.press('Tab');
      expect(await focused(page)).toMatch(/Individual key/);
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Private key (.p8)');
      // Space on the file field opens the system's chooser, as for a person at the keyboard.
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
      await chooser.setFiles(join(sandbox, p8));
      // As a person would, go on once the form says which file it took.
      await poll(() => page.getByText(`Chosen: ${p8}`).count()).toBe(1);
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('Add key');
      await page.keyboard.press('Enter');
      // Saving checks the key with App Store Connect (the sandbox's simulator): wait for the table row or an
      // error, and name the error if one came, so a failure says why.
      const saved = page.getByRole('cell', { name: 'Keyboard key', exact: true });
      const problems = page.locator('.field-error, [role=alert]');
      await poll(async () => (await saved.count()) + (await problems.count()), { timeout: 45_000 }).toBeGreaterThan(0);
      expect(await problems.allTextContents()).toEqual([]);
      expect(await saved.count()).toBe(1);
    });

    it('an invalid field takes the focus and names its error for screen readers', async () => {
      const form = page.getByRole('form', { name: 'Add a key' });
      await form.getByLabel('Name', { exact: true }).fill('Typo');
      await form.getByLabel('Key ID', { exact: true }).fill('short');
      await form.getByLabel('Issuer ID', { exact: true }).fill('69a6de70-03db-47e3-e053-5b8c7c11a4d1');
      const sandbox = join(server.data, 'sandbox');
      const p8 = readdirSync(sandbox).find((f) => /^AuthKey_\w{10}\.p8$/.test(f))!;
      await form.getByLabel('Private key (.p8)').setInputFiles(join(sandbox, p8));
      await form.getByLabel('Private key (.p8)').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await poll(() => focused(page)).toBe('Key ID');
      const describedBy = await page.evaluate<string>("document.activeElement.getAttribute('aria-describedby')");
      expect(await page.locator(`[id="${describedBy}"]`).textContent()).toMatch(/\[KEY_ID_INVALID\]/);
    });

    it('labels every control on every page, and fits 390 px and 1440 px without sideways scrolling', async () => {
      for (const width of [1440, 390]) {
        await page.setViewportSize({ width, height: 900 });
        for (const path of PAGES) {
          await page.goto(`${server.url}${path}`);
          await poll(() => page.getByRole('heading', { level: 1 }).count()).toBe(1);
          await page.waitForLoadState('networkidle');
          expect(await unlabelled(page), `${path} at ${width}`).toEqual([]);
          const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
          expect(overflow, `${path} at ${width} px`).toBeLessThanOrEqual(0);
        }
      }
    });
  },
);
