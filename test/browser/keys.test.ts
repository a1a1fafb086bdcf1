import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, HAVE_CHROMIUM, launchBrowser, poll, type RunningServer, startServer } from './harness.js';

/** The field's inline error: the element its aria-describedby names, as a screen reader reads it. */
async function fieldError(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label, { exact: true });
  const id = await input.getAttribute('aria-describedby');
  expect(await input.getAttribute('aria-invalid')).toBe('true');
  return (await page.locator(`[id="${id}"]`).textContent()) ?? '';
}

describe.skipIf(!HAVE_CHROMIUM)(
  'dashboard: sign in, API keys, sign out (Chromium, real sandbox server)',
  { timeout: 120_000 },
  () => {
    let server: RunningServer;
    let browser: { browser: Browser; close(): Promise<void> };
    let page: Page;
    let files: string;

    beforeAll(async () => {
      ensureWebBuilt();
      [server, browser] = await Promise.all([startServer(), launchBrowser()]);
      page = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
      files = join(server.dir, 'files');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(files);
      writeFileSync(join(files, 'notes.p8'), 'these are my notes, not a key\n');
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      });
      writeFileSync(join(files, 'AuthKey_P384P384P3.p8'), p384);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
    });

    it('signs in with the one-time link and lands on the dashboard', async () => {
      await page.goto(server.signInLink);
      expect(new URL(page.url()).pathname).toBe('/');
      await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Apps');
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toContain(
        'API keys',
      );
      // The link works once: opened again it is refused, and the dashboard is not shown.
      const again = await (await browser.browser.newPage()).goto(server.signInLink);
      expect(again?.status()).toBe(401);
    });

    it('adds a key from the files Apple gives, rejecting each invalid case inline next to its field', async () => {
      await page.getByRole('link', { name: 'API keys' }).click();
      await poll(() => page.getByRole('cell', { name: 'Sandbox App Manager', exact: true }).count()).toBe(1);
      await poll(() => page.getByText(/lets you download the .p8 file only once/).count()).toBe(1);
      expect(await page.getByText('App Manager', { exact: true }).count()).toBeGreaterThan(0);
      const sandbox = join(server.data, 'sandbox');
      const p8 = readdirSync(sandbox).find((f) => /^AuthKey_\w{10}\.p8$/.test(f))!;
      const key = JSON.parse(readFileSync(join(sandbox, 'key.json'), 'utf8')) as { key_id: string; issuer_id: string };
      // The sandbox note points at the file, as the download from Apple would be.
      await poll(() => page.getByText(join(sandbox, p8)).count()).toBe(1);

      const form = page.getByRole('form', { name: 'Add a key' });
      const submit = () => form.getByRole('button', { name: 'Add key' }).click();
      await form.getByLabel('Name', { exact: true }).fill('Second key');
      await form.getByLabel('Issuer ID', { exact: true }).fill(key.issuer_id);

      // Not a key at all.
      await form.getByLabel('Key ID', { exact: true }).fill(key.key_id);
      await form.getByLabel('Private key (.p8)').setInputFiles(join(files, 'notes.p8'));
      await submit();
      await poll(() => fieldError(page, 'Private key (.p8)')).toMatch(/not a PEM private key \[KEY_NOT_PEM\]/);

      // An EC key on the wrong curve.
      await form.getByLabel('Private key (.p8)').setInputFiles(join(files, 'AuthKey_P384P384P3.p8'));
      await submit();
      await expect
        .poll(() => fieldError(page, 'Private key (.p8)'))
        .toMatch(/secp384r1 curve, not P-256 \[KEY_WRONG_CURVE\]/);

      // The real file, with a Key ID typo.
      await form.getByLabel('Private key (.p8)').setInputFiles(join(sandbox, p8));
      await form.getByLabel('Key ID', { exact: true }).fill('abc123');
      await submit();
      await poll(() => fieldError(page, 'Key ID')).toMatch(/\[KEY_ID_INVALID\]/);
      // Only the field at fault is marked.
      expect(await form.getByLabel('Private key (.p8)').getAttribute('aria-invalid')).toBeNull();

      await form.getByLabel('Key ID', { exact: true }).fill(key.key_id);
      await form.getByLabel('Issuer ID', { exact: true }).fill('not-an-issuer');
      await submit();
      await poll(() => fieldError(page, 'Issuer ID')).toMatch(/8-4-4-4-12 .*\[ISSUER_ID_INVALID\]/);

      await form.getByLabel('Issuer ID', { exact: true }).fill(key.issuer_id);
      await submit();
      const row = page.getByRole('row').filter({ hasText: 'Second key' });
      await poll(() => row.count()).toBe(1);
      const cells = await row.getByRole('cell').allTextContents();
      expect(cells).toContain(key.key_id);
      expect(cells).toContain(key.issuer_id);
      expect(cells.some((c) => /^[0-9a-f:]{20,}$/i.test(c) || /SHA256/i.test(c) || c.length >= 40)).toBe(true);
      // After saving, nothing of the key itself is on the page.
      const body = readFileSync(join(sandbox, p8), 'utf8').split('\n')[1]!;
      expect(await page.content()).not.toContain(body.slice(0, 20));

      // Check asks Apple (the sandbox) and shows the role it inferred.
      await row.getByRole('button', { name: 'Check Second key with Apple' }).click();
      await poll(() => row.getByText(/Works with Apple/).count()).toBe(1);
    });

    it('shows the signed-out page when the session ends, and signs out', async () => {
      const cookies = await page.context().cookies();
      await page.context().clearCookies();
      await page.getByRole('link', { name: 'Audit log' }).click();
      await poll(() => page.getByRole('alert').first().textContent()).toMatch(/session ended/);
      await page.context().addCookies(cookies);
      await page.goto(`${server.url}/keys`);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await poll(() => page.getByText('You signed out.').count()).toBe(1);
      await page.reload();
      await poll(() => page.getByText(/You are not signed in/).count()).toBe(1);
    });
  },
);
