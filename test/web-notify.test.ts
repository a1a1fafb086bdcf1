import { describe, expect, it } from 'vitest';
import { NOTIFY_EVENTS as SERVER_EVENTS } from '../src/server/notify/types.js';
import { DEFAULT_EVENTS, NOTIFY_EVENTS, targetFieldOf } from '../web/src/notify.js';

describe('dashboard notification form rules', () => {
  it('offers exactly the server’s events, in its order, and preselects the server’s default', () => {
    expect(NOTIFY_EVENTS).toEqual(SERVER_EVENTS);
    expect(DEFAULT_EVENTS).toEqual(SERVER_EVENTS.filter((e) => e !== 'test'));
  });

  it('shows each NOTIFY_TARGET_INVALID next to the field its message names', () => {
    const f = (m: string) => targetFieldOf('NOTIFY_TARGET_INVALID', m);
    expect(f('the name must be 1–64 characters without control characters')).toBe('name');
    expect(f('the URL is not a valid absolute URL')).toBe('url');
    expect(f('the URL must not hold a user name or password')).toBe('url');
    expect(f('the URL must use https (not ftp)')).toBe('url');
    expect(f('unknown event "x"; known: deploy.started')).toBe('events');
    expect(f('a target needs at least one event')).toBe('events');
    expect(f('the secret must be 16–256 characters')).toBe('secret');
    expect(targetFieldOf('RESOURCE_EXISTS', 'a notification target named "A" exists in this team')).toBe('name');
    expect(targetFieldOf('FORBIDDEN', 'admins only')).toBeNull();
  });
});
