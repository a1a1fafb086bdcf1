/**
 * What the notification forms need to know of the server's rules (docs/SERVER.md, "Notifications"), kept free
 * of the DOM so test/web-notify.test.ts can hold it against the server's own list.
 */

import { NOTIFY_EVENTS } from '../../src/server/api/types.js';

/** The events a target can subscribe to, in the server's order (from the API contract). */
export { NOTIFY_EVENTS };

/** What a new target subscribes to unless changed: every event but `test`, as the server's default. */
export const DEFAULT_EVENTS: readonly string[] = NOTIFY_EVENTS.filter((e) => e !== 'test');

export type TargetField = 'name' | 'url' | 'events' | 'secret';

/**
 * The field an error of `POST /api/v1/notifications/targets` is about, to show it next to that field. The server
 * has one code for every invalid part (NOTIFY_TARGET_INVALID); its message names the part.
 */
export function targetFieldOf(code: string, message: string): TargetField | null {
  if (code === 'RESOURCE_EXISTS') return 'name';
  if (code !== 'NOTIFY_TARGET_INVALID') return null;
  if (/^the name\b/.test(message)) return 'name';
  if (/\bevents?\b/.test(message)) return 'events';
  if (/\bsecret\b/.test(message)) return 'secret';
  return 'url';
}
