import { createHmac } from 'node:crypto';
import type { NotifyEvent } from './types.js';

/**
 * Text for Slack's mrkdwn: control characters become spaces and `&`, `<`, `>` are escaped as Slack asks
 * (https://api.slack.com/reference/surfaces/formatting#escaping), so an app name or "What to Test" note
 * cannot add a link, a mention (`<!channel>`) or formatting of its own. Bounded, as Slack cuts long texts.
 */
export function slackEscape(s: string, max = 500): string {
  const clean = s
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

const TITLES: Record<NotifyEvent['type'], string> = {
  'deploy.started': 'Deploy started',
  'deploy.awaiting_approval': 'Deploy awaiting approval',
  'deploy.processed': 'Build processed by Apple',
  'deploy.in_testflight': 'Build in TestFlight',
  'deploy.submitted_for_review': 'Submitted for App Review',
  'deploy.succeeded': 'Deploy succeeded',
  'deploy.failed': 'Deploy failed',
  'alert.opened': 'Alert',
  'alert.resolved': 'Alert resolved',
  test: 'Test notification',
};

/** One line naming what happened, every user-controlled part escaped. */
function summary(e: NotifyEvent): string {
  const parts = [`*${TITLES[e.type]}*`, `(${slackEscape(e.team.name, 100)})`];
  const d = e.deploy;
  if (d) {
    const app = [d.bundleId, d.version && `${d.version}${d.buildNumber ? ` (${d.buildNumber})` : ''}`]
      .filter(Boolean)
      .join(' ');
    if (app) parts.push(`— ${slackEscape(app, 200)}`);
    if (d.step) parts.push(`— step ${slackEscape(d.step, 50)}`);
    if (d.groups?.length) parts.push(`— groups: ${slackEscape(d.groups.join(', '), 200)}`);
    parts.push(`— deploy ${slackEscape(d.id, 60)}`);
    if (d.error) parts.push(`\n${slackEscape(d.error.code, 60)}: ${slackEscape(d.error.message)}`);
    if (d.error?.remedy) parts.push(`\nFix: ${slackEscape(d.error.remedy)}`);
  }
  const a = e.alert;
  if (a) {
    parts.push(`— ${slackEscape(a.severity, 20)} ${slackEscape(a.code, 60)} (${slackEscape(a.subject, 200)})`);
    if (e.type === 'alert.opened') parts.push(`\n${slackEscape(a.message)}\nFix: ${slackEscape(a.fix)}`);
  }
  if (e.type === 'test') parts.push('— this target works.');
  return parts.join(' ').replace(/ \n/g, '\n');
}

/** Slack's incoming-webhook body: `text` (also the notification's fallback) and one section block. */
export function slackBody(e: NotifyEvent): string {
  const text = summary(e);
  return JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
}

/** The generic webhook's body: the event itself, `{id, type, createdAt, team, deploy?, alert?}`. */
export function jsonBody(e: NotifyEvent): string {
  return JSON.stringify(e);
}

/** `sha256=<hex HMAC-SHA256 of the raw body under the target's secret>` (docs/SERVER.md shows how to verify). */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Headers of a generic webhook delivery; the same on every retry, so `x-ascend-delivery` dedups. */
export function webhookHeaders(e: NotifyEvent, deliveryId: string, secret: string, body: string) {
  return {
    'x-ascend-event': e.type,
    'x-ascend-delivery': deliveryId,
    // The event's time, also inside the signed body as `createdAt`: check it there, not here.
    'x-ascend-timestamp': String(Math.floor(Date.parse(e.createdAt) / 1000)),
    'x-ascend-signature': signature(secret, body),
  };
}
