import type { ApiKey } from '../../credentials/types.js';

/** A webhook as App Store Connect lists it (the secret is write-only: Apple never returns it). */
export interface AppleWebhook {
  id: string;
  url: string;
  enabled: boolean;
  eventTypes: string[];
}

/**
 * The server's reach into App Store Connect's webhooks API and the resources events name, injected so the
 * registration and the event job are tested with fakes that fail on any unexpected call.
 * https://developer.apple.com/documentation/appstoreconnectapi/webhooks
 */
export interface AppleWebhooks {
  list(key: ApiKey, ascAppId: string): Promise<AppleWebhook[]>;
  create(
    key: ApiKey,
    w: { ascAppId: string; name: string; url: string; secret: string; eventTypes: readonly string[] },
  ): Promise<AppleWebhook>;
  update(
    key: ApiKey,
    id: string,
    patch: { url?: string; secret?: string; eventTypes?: readonly string[]; enabled?: boolean },
  ): Promise<void>;
  /** Resolves also when Apple has no such webhook any more. */
  delete(key: ApiKey, id: string): Promise<void>;
  /** The resource's state now, re-read through the API; null for a type the server does not read. */
  readState(key: ApiKey, resource: { type: string; id: string }): Promise<string | null>;
}

/** Where the hooks route sends accepted deliveries: a job per event, and a nudge so it is taken at once. */
export interface HookReceiver {
  enqueue(payload: { teamId: string; eventRef: string }): Promise<string>;
  nudge(): void;
}

/** How webhooks are registered: set with `--public-url` (where App Store Connect reaches this server). */
export interface WebhookRegistration {
  publicUrl: string;
  /** How long the previous secret is accepted after a rotation. */
  graceMs: number;
}
