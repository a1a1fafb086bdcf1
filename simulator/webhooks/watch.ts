import type { Store } from '../store.js';

/** The event types the simulator delivers, each from one state it watches. */
export type WatchedEventType =
  | 'BUILD_UPLOAD_STATE_UPDATED'
  | 'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED'
  | 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED';

/** One state change, enough to build Apple's payload and find the app's webhooks. */
export interface StateChange {
  eventType: WatchedEventType;
  appId: string;
  instance: { type: string; id: string };
  oldValue: string;
  newValue: string;
}

interface Watched {
  eventType: WatchedEventType;
  type: string;
  /** The watched state of a record, or undefined when it has none yet. */
  state(attributes: Record<string, unknown>): string | undefined;
  appOf(store: Store, rels: Record<string, string | string[] | null>): string | undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const WATCHED: Watched[] = [
  {
    eventType: 'BUILD_UPLOAD_STATE_UPDATED',
    type: 'buildUploads',
    state: (a) => str((a.state as { state?: unknown } | undefined)?.state),
    appOf: (_s, rels) => str(rels.app),
  },
  {
    eventType: 'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED',
    type: 'buildBetaDetails',
    state: (a) => str(a.externalBuildState),
    appOf: (s, rels) => str(s.get('builds', String(rels.build))?.rels.app),
  },
  {
    eventType: 'APP_STORE_VERSION_APP_VERSION_STATE_UPDATED',
    type: 'appStoreVersions',
    state: (a) => str(a.appVersionState),
    appOf: (_s, rels) => str(rels.app),
  },
];

/**
 * Turns the simulator's state machines into webhook events without touching them: after every save it
 * compares the watched states (upload state, external beta state, App Store version state) with the last
 * ones seen and reports each that moved. A record seen for the first time is only remembered: Apple
 * notifies state *updates*, and a new upload, build or version starts in its first state.
 */
export class StateWatcher {
  private last = new Map<string, string>();

  constructor(private readonly store: Store) {
    this.diff();
  }

  diff(): StateChange[] {
    const changes: StateChange[] = [];
    const seen = new Map<string, string>();
    for (const w of WATCHED) {
      for (const rec of this.store.list(w.type)) {
        const value = w.state(rec.attributes as Record<string, unknown>);
        if (value === undefined) continue;
        const key = `${w.type}/${rec.id}`;
        seen.set(key, value);
        const before = this.last.get(key);
        if (before === undefined || before === value) continue;
        const appId = w.appOf(this.store, rec.rels);
        if (appId)
          changes.push({
            eventType: w.eventType,
            appId,
            instance: { type: w.type, id: rec.id },
            oldValue: before,
            newValue: value,
          });
      }
    }
    this.last = seen;
    return changes;
  }
}

const EVENT_NAMES: Record<WatchedEventType, string> = {
  BUILD_UPLOAD_STATE_UPDATED: 'buildUploadStateUpdated',
  BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED: 'buildBetaDetailExternalBuildStateUpdated',
  APP_STORE_VERSION_APP_VERSION_STATE_UPDATED: 'appStoreVersionAppVersionStateUpdated',
};

/**
 * Apple's payload for a change (docs/app-store-connect.md §i, Apple's examples): a notification naming the
 * resource, which the receiver re-reads through the API. The attribute names differ per event type.
 */
export function changePayload(c: StateChange, id: string, timestamp: string): Record<string, unknown> {
  const attributes: Record<string, unknown> =
    c.eventType === 'BUILD_UPLOAD_STATE_UPDATED'
      ? { newState: c.newValue }
      : c.eventType === 'BUILD_BETA_DETAIL_EXTERNAL_BUILD_STATE_UPDATED'
        ? { newExternalBuildState: c.newValue, oldExternalBuildState: c.oldValue }
        : { newValue: c.newValue, oldValue: c.oldValue, timestamp };
  return {
    data: {
      type: EVENT_NAMES[c.eventType],
      id,
      version: 1,
      attributes,
      relationships: { instance: { data: c.instance } },
    },
  };
}

/** A test ping's payload. Apple documents no example; this shape follows the events' [unverified]. */
export function pingPayload(id: string, timestamp: string): Record<string, unknown> {
  return { data: { type: 'webhookPingCreated', id, version: 1, attributes: { timestamp } } };
}
