/**
 * Screenshots of every dashboard page at 390 px (a phone) and 1440 px (a laptop), against a real sandbox
 * server: `npm run screenshots` writes docs/screenshots/<page>-390.png and <page>-1440.png.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ensureWebBuilt, HAVE_CHROMIUM, launchBrowser, startServer } from '../test/browser/harness.js';

const OUT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../docs/screenshots');
const WIDTHS = [
  [390, 844],
  [1440, 900],
] as const;

async function settle(page: Page): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.getByRole('heading', { level: 1 }).first().waitFor();
}

async function main(): Promise<void> {
  if (!HAVE_CHROMIUM) throw new Error('Chromium is not installed at /usr/bin/chromium (apt-get install chromium)');
  ensureWebBuilt();
  mkdirSync(OUT, { recursive: true });
  const [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  try {
    const ctx = await browser.browser.newContext({ colorScheme: 'light' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}/`);
    const shots: [string, () => Promise<void>][] = [['sign-in', () => settle(page)]];
    await page.goto(server.signInLink);
    // A deploy to show: the sample build to the internal group.
    await page.goto(`${server.url}/deploys/new`);
    await page.getByLabel('Build (.ipa)').setInputFiles(join(server.data, 'sandbox', 'Sample.ipa'));
    await page.getByRole('checkbox', { name: /Internal Testers/ }).check({ timeout: 60_000 });
    await page.getByLabel('What to Test').fill('The new onboarding flow');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByText('succeeded', { exact: true }).first().waitFor({ timeout: 60_000 });
    const deployPath = new URL(page.url()).pathname;
    await page.goto(`${server.url}/apps`);
    await page.getByRole('button', { name: 'Load apps from Apple' }).click();
    await page.getByRole('heading', { name: 'Sandbox One' }).waitFor();

    const visit = (path: string) => async () => {
      await page.goto(`${server.url}${path}`);
      await settle(page);
    };
    shots.push(
      ['apps', visit('/apps')],
      [
        'new-deploy',
        async () => {
          await visit('/deploys/new')();
          await page.getByLabel('Build (.ipa)').setInputFiles(join(server.data, 'sandbox', 'Sample.ipa'));
          await page.getByRole('checkbox', { name: /Internal Testers/ }).waitFor({ timeout: 60_000 });
        },
      ],
      ['deploy', visit(deployPath)],
      ['deploys', visit('/deploys')],
      ['keys', visit('/keys')],
      ['audit', visit('/audit')],
      ['team', visit('/team')],
      ['settings', visit('/settings')],
      ['alerts', visit('/alerts')],
    );
    for (const [width, height] of WIDTHS) {
      await page.setViewportSize({ width, height });
      for (const [name, open] of shots) {
        if (name === 'sign-in') {
          const out = await browser.browser.newPage({ viewport: { width, height }, colorScheme: 'light' });
          await out.goto(`${server.url}/`);
          await settle(out);
          await out.screenshot({ path: join(OUT, `${name}-${width}.png`) });
          await out.close();
          continue;
        }
        await open();
        await page.screenshot({ path: join(OUT, `${name}-${width}.png`) });
      }
    }
    process.stdout.write(`wrote ${shots.length * WIDTHS.length} screenshots to ${OUT}\n`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
