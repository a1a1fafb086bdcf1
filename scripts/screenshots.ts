/**
 * Screenshots of every dashboard page at 390 px (a phone) and 1440 px (a laptop), against a real sandbox
 * server: `npm run screenshots` writes docs/screenshots/<page>-390.png and <page>-1440.png; names after the
 * script (`npx tsx scripts/screenshots.ts settings apps`) take only those pages.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ensureWebBuilt, freePort, HAVE_CHROMIUM, launchBrowser, startServer } from '../test/browser/harness.js';

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
  // A public URL: the apps' webhooks are registered at the sandbox's Apple, as the apps page shows.
  const port = await freePort();
  const [server, browser] = await Promise.all([
    startServer({}, ['--port', String(port), '--public-url', `http://127.0.0.1:${port}`]),
    launchBrowser(),
  ]);
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

    // Two notification targets for the settings page (never sent to: no test is sent).
    for (const target of [
      { kind: 'webhook', name: 'Release bot', url: 'https://hooks.example.com/ascend', events: ['deploy.failed'] },
      { kind: 'slack', name: '#releases', url: 'https://hooks.slack.com/services/T000/B000/XXXX' },
    ]) {
      const res = await fetch(`${server.url}/api/v1/notifications/targets`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken()}`, 'content-type': 'application/json' },
        body: JSON.stringify(target),
      });
      if (res.status !== 201) throw new Error(`adding the target ${target.name} answered ${res.status}`);
    }

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
    const only = process.argv.slice(2);
    for (const [width, height] of WIDTHS) {
      await page.setViewportSize({ width, height });
      for (const [name, open] of shots) {
        if (only.length && !only.includes(name)) continue;
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
    const written = only.length ? shots.filter(([n]) => only.includes(n)).length : shots.length;
    process.stdout.write(`wrote ${written * WIDTHS.length} screenshots to ${OUT}\n`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
