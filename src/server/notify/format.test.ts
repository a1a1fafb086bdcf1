import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signature, slackBody, slackEscape, webhookHeaders } from './format.js';
import type { NotifyEvent } from './types.js';

const event: NotifyEvent = {
  id: 'nev_1',
  type: 'deploy.failed',
  createdAt: '2026-11-29T10:00:00.000Z',
  team: { id: 'team_1', name: 'Acme' },
  deploy: {
    id: 'dep_1',
    state: 'failed',
    bundleId: 'com.example.app',
    version: '2.0',
    buildNumber: '12',
    error: { code: 'BUILD_NUMBER_USED', message: 'build <@U123> & co\nis used', remedy: 'Bump it.' },
  },
};

describe('notification formats', () => {
  it('escapes Slack mrkdwn and control characters so user text cannot mention, link or format', () => {
    expect(slackEscape('<!channel> & <https://evil|click>\u0007')).toBe(
      '&lt;!channel&gt; &amp; &lt;https://evil|click&gt; ',
    );
    expect(slackEscape('x'.repeat(600)).length).toBe(500);
    const { text, blocks } = JSON.parse(slackBody(event));
    expect(text).toContain('*Deploy failed*');
    expect(text).toContain('com.example.app 2.0 (12)');
    expect(text).toContain('BUILD_NUMBER_USED: build &lt;@U123&gt; &amp; co is used');
    expect(text).toContain('Fix: Bump it.');
    expect(blocks[0].text).toEqual({ type: 'mrkdwn', text });
  });

  it('signs the raw body with HMAC-SHA256 under the target secret', () => {
    const body = JSON.stringify(event);
    const expected = createHmac('sha256', 'whsec_test').update(body).digest('hex');
    expect(signature('whsec_test', body)).toBe(`sha256=${expected}`);
    expect(webhookHeaders(event, 'ndl_1', 'whsec_test', body)).toEqual({
      'x-ascend-event': 'deploy.failed',
      'x-ascend-delivery': 'ndl_1',
      'x-ascend-timestamp': String(Date.parse(event.createdAt) / 1000),
      'x-ascend-signature': `sha256=${expected}`,
    });
  });
});
