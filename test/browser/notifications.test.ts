import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureWebBuilt,
  freePort,
  HAVE_CHROMIUM,
  launchBrowser,
  poll,
  type RunningServer,
  startServer,
} from './harness.js';

/** The field's inline error: the element its aria-describedby names, as a screen reader reads it. */
async function fieldError(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label, { exact: true });
  const id = await input.getAttribute('aria-describedby');
  expect(await input.getAttribute('aria-invalid')).toBe('true');
  return (await page.locator(`[id="${id}"]`).textContent()) ?? '';
}

/** A JSON webhook receiver on 127.0.0.1 that keeps each request's raw body and headers and answers 200. */
async function startReceiver(): Promise<{
  url: string;
  got: { headers: IncomingHttpHeaders; body: Buffer }[];
  close(): Promise<void>;
}> {
  const got: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/ascend`,
    got,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe.skipIf(!HAVE_CHROMIUM)(
  'dashboard: notification targets, deliveries and the app webhook (Chromium, real sandbox server)',
  { timeout: 180_000 },
  () => {
    let server: RunningServer;
    let browser: { browser: Browser; close(): Promise<void> };
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let page: Page;
    let secret = '';

    beforeAll(async () => {
      ensureWebBuilt();
      // The receiver is on loopback: the server refuses such a target unless started with this flag.
      // A public URL makes the server register the apps' webhooks at the sandbox's Apple; it names the port the
      // server listens on, so that port is chosen first (the later --port wins over the harness's 0).
      const port = await freePort();
      [server, browser, receiver] = await Promise.all([
        startServer({}, [
          '--allow-private-notify-targets',
          '--port',
          String(port),
          '--public-url',
          `http://127.0.0.1:${port}`,
        ]),
        launchBrowser(),
        startReceiver(),
      ]);
      page = await browser.browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(server.signInLink);
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      await receiver?.close();
    });

    it('rejects an invalid URL inline, next to the URL field', async () => {
      await poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Apps');
      await page.getByRole('link', { name: 'Settings' }).click();
      const form = page.getByRole('form', { name: 'Add a target' });
      await poll(() => form.count()).toBe(1);
      await form.getByLabel('Target name', { exact: true }).fill('Receiver');
      await form.getByLabel('URL', { exact: true }).fill('not a url');
      await form.getByRole('button', { name: 'Add target' }).click();
      await poll(() => fieldError(page, 'URL')).toMatch(/not a valid absolute URL \[NOTIFY_TARGET_INVALID\]/);
      // The field at fault has the focus; the others are not marked.
      const urlId = await form.getByLabel('URL', { exact: true }).getAttribute('id');
      expect(await page.evaluate<string>('document.activeElement.id')).toBe(urlId);
      expect(await form.getByLabel('Target name', { exact: true }).getAttribute('aria-invalid')).toBeNull();
      expect(await page.getByRole('row').filter({ hasText: 'Receiver' }).count()).toBe(0);
    });

    it('adds a JSON webhook target and shows its generated secret once', async () => {
      const form = page.getByRole('form', { name: 'Add a target' });
      await form.getByLabel('URL', { exact: true }).fill(receiver.url);
      await form.getByRole('checkbox', { name: 'test', exact: true }).check();
      await form.getByRole('checkbox', { name: 'deploy.started', exact: true }).uncheck();
      await form.getByRole('button', { name: 'Add target' }).click();
      const shown = page.getByRole('status', { name: 'New webhook secret' });
      await poll(() => shown.count()).toBe(1);
      secret = (await shown.getByText(/^whsec_/).textContent()) ?? '';
      expect(secret).toMatch(/^whsec_[A-Za-z0-9]{20,}$/);
      const row = page.getByRole('row').filter({ hasText: 'Receiver' });
      await poll(() => row.count()).toBe(1);
      const cells = await row.getByRole('cell').allTextContents();
      expect(cells[0]).toBe('JSON webhook');
      expect(cells[3]).toMatch(/^127\.0\.0\.1(:\d+)?$/);
      expect(cells[2]).toContain('deploy.failed');
      expect(cells[2]).toContain('test');
      expect(cells[2]).not.toContain('deploy.started');
      // The table shows the host only, never the path of the URL.
      expect(await row.textContent()).not.toContain('/hooks/ascend');

      // A second target, to filter the deliveries by: Slack, never sent to.
      await form.getByLabel('Slack (incoming webhook)').check();
      expect(await form.getByLabel('Signing secret (optional)').count()).toBe(0);
      await form.getByLabel('Target name', { exact: true }).fill('Releases');
      await form.getByLabel('URL', { exact: true }).fill('https://hooks.slack.example/services/T0/B0/abc');
      await form.getByRole('button', { name: 'Add target' }).click();
      await poll(() => page.getByRole('row').filter({ hasText: 'Releases' }).count()).toBe(1);
      // A Slack target has no secret to show: the earlier one is gone from the page.
      expect(await page.content()).not.toContain(secret);

      // After a reload the secret is not shown again (the server never answers it again).
      await page.reload();
      await poll(() => page.getByRole('row').filter({ hasText: 'Receiver' }).count()).toBe(1);
      expect(await page.content()).not.toContain(secret);
      expect(await page.getByRole('status', { name: 'New webhook secret' }).count()).toBe(0);
    });

    it('sends a test that reaches "delivered", signed with the secret shown', async () => {
      await page.getByRole('button', { name: 'Send test to Receiver' }).click();
      const delivery = page.getByRole('row').filter({ hasText: 'Receiver' }).filter({ hasText: /^test/ });
      await poll(() => delivery.getByText('delivered', { exact: true }).count(), { timeout: 60_000 }).toBe(1);
      expect(await delivery.getByRole('cell').nth(3).textContent()).toBe('1');
      expect(await delivery.getByRole('cell').nth(4).textContent()).toBe('HTTP 200');

      expect(receiver.got).toHaveLength(1);
      const { headers, body } = receiver.got[0]!;
      expect(headers['x-ascend-event']).toBe('test');
      const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
      expect(headers['x-ascend-signature']).toBe(expected);
      expect(createHmac('sha256', 'whsec_wrong').update(body).digest('hex')).not.toBe(expected.slice(7));
      expect(JSON.parse(body.toString('utf8')).type).toBe('test');

      // The attempts open under the row, from the keyboard.
      const toggle = delivery.getByRole('button', { name: /Show attempts of test to Receiver/ });
      await toggle.focus();
      await page.keyboard.press('Enter');
      await poll(() => page.getByText(/Attempt 1: HTTP 200/).count()).toBe(1);

      // Filtered by the Slack target, nothing; by the receiver, the test.
      const filter = page.getByLabel('Target', { exact: true });
      await filter.selectOption({ label: 'Releases' });
      await poll(() => page.getByText('No delivery yet.').count()).toBe(1);
      await filter.selectOption({ label: 'Receiver' });
      await poll(() => delivery.count()).toBe(1);
    });

    it('removes a target after a confirmation', async () => {
      page.once('dialog', (d) => void d.dismiss());
      await page.getByRole('button', { name: 'Remove Receiver' }).click();
      expect(await page.getByRole('row').filter({ hasText: 'Receiver' }).count()).toBeGreaterThan(0);
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Remove Receiver' }).click();
      await poll(() => page.getByRole('button', { name: 'Remove Receiver' }).count()).toBe(0);
      await page.reload();
      await poll(() => page.getByRole('button', { name: 'Remove Releases' }).count()).toBe(1);
      expect(await page.getByRole('button', { name: 'Remove Receiver' }).count()).toBe(0);
    });

    it('shows the app’s App Store Connect webhook and lets an admin rotate its secret, audited', async () => {
      await page.getByRole('link', { name: 'Apps' }).first().click();
      await page.getByRole('button', { name: 'Load apps from Apple' }).click();
      const card = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Sandbox One' }) });
      await poll(() => card.getByText('registered', { exact: true }).count(), { timeout: 60_000 }).toBe(1);
      expect(await card.getByText(/last event none yet/).count()).toBe(1);
      await card.getByText('Event types').click();
      expect(await card.getByText('BUILD_UPLOAD_STATE_UPDATED', { exact: true }).count()).toBe(1);

      page.once('dialog', (d) => void d.accept());
      await card.getByRole('button', { name: 'Rotate the webhook secret of Sandbox One' }).click();
      await poll(() => card.getByText(/^Rotated\. The previous secret is accepted until/).count()).toBe(1);
      await poll(() => card.getByText(/The previous secret is accepted until/).count()).toBe(2);

      const audit = await fetch(`${server.url}/api/v1/audit`, {
        headers: { authorization: `Bearer ${server.adminToken()}` },
      }).then((r) => r.json() as Promise<{ data: { action: string; outcome: string }[] }>);
      expect(audit.data.filter((e) => e.action === 'webhook.rotate')).toEqual([
        expect.objectContaining({ outcome: 'success' }),
      ]);
    });
  },
);
