import { conflict } from '../errors.js';
import { mustGet } from '../reads.js';
import type { Rec, Store } from '../store.js';
import type { WriteHandler } from '../write-helpers.js';
import { created, now, ok, type Schemas, visibleRel, write } from '../write-helpers.js';

/** Bundle IDs, their capabilities, and devices: the identifiers profiles are made from. */

// Reverse-DNS with letters, digits, hyphens and periods; a wildcard is `*` alone or a trailing `.*`.
const IDENTIFIER = /^(\*|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(\.\*)?)$/;
// The portal's rule for App ID descriptions: no special characters such as @, &, *, ', ", -, .
const NAME = /^[A-Za-z0-9 ]{1,255}$/;
// 40 hex characters (older devices) or the 8-4... form of newer ones (00008030-001A2D3E0C38802E).
const UDID = /^([0-9a-fA-F]{40}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{16})$/;

const invalidAttr = (detail: string, attr: string) =>
  conflict('ENTITY_ERROR.ATTRIBUTE.INVALID', detail, `/data/attributes/${attr}`);

/** Changing an App ID's capabilities makes its profiles invalid until they are generated again (as in the portal). */
export function invalidateProfilesOf(store: Store, bundleIdId: string): void {
  for (const p of store.list('profiles')) {
    if (p.rels.bundleId === bundleIdId) p.internal = { ...p.internal, stale: true };
  }
}

function removeProfilesOf(store: Store, bundleIdId: string): void {
  for (const p of store.list('profiles')) if (p.rels.bundleId === bundleIdId) store.remove('profiles', p.id);
}

export const identifierWrites: Record<string, WriteHandler> = {
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-bundleids */
  'POST /v1/bundleIds': write<Schemas['BundleIdCreateRequest']>((ctx) => {
    const a = ctx.body.data.attributes as { identifier: string; name: string; platform: string; seedId?: string };
    if (!IDENTIFIER.test(a.identifier) || a.identifier.length > 255)
      throw invalidAttr(`'${a.identifier}' is not a valid bundle identifier`, 'identifier');
    if (!NAME.test(a.name))
      throw invalidAttr(
        `The name '${a.name}' can only contain alphanumeric characters and spaces (no @, &, *, ', ", -, .)`,
        'name',
      );
    const taken = ctx.store
      .list('bundleIds')
      .some(
        (b) => b.teamId === ctx.teamId && String(b.attributes.identifier).toLowerCase() === a.identifier.toLowerCase(),
      );
    // Apple's wording for an identifier already registered.
    if (taken)
      throw invalidAttr(
        `An App ID with Identifier '${a.identifier}' is not available. Please enter a different string.`,
        'identifier',
      );
    const app = ctx.store.list('apps').find((r) => r.teamId === ctx.teamId && r.attributes.bundleId === a.identifier);
    const rec = ctx.store.insert({
      type: 'bundleIds',
      teamId: ctx.teamId,
      attributes: { identifier: a.identifier, name: a.name, platform: a.platform, seedId: a.seedId ?? ctx.teamId },
      rels: { app: app?.id ?? null },
    });
    return created(ctx, rec);
  }),
  /** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-bundleids-_id_ */
  'DELETE /v1/bundleIds/{id}': (ctx) => {
    const rec = mustGet(ctx, 'bundleIds', ctx.pathParams[0]!);
    if (rec.rels.app)
      throw conflict(
        'ENTITY_ERROR',
        `The App ID '${rec.attributes.identifier}' is in use by an app in App Store Connect`,
      );
    for (const c of ctx.store.referencing('bundleIdCapabilities', rec.id))
      ctx.store.remove('bundleIdCapabilities', c.id);
    removeProfilesOf(ctx.store, rec.id);
    ctx.store.remove('bundleIds', rec.id);
    return { status: 204 };
  },
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-bundleidcapabilities */
  'POST /v1/bundleIdCapabilities': write<Schemas['BundleIdCapabilityCreateRequest']>((ctx) => {
    const bundle = visibleRel(ctx, 'bundleIds', 'bundleId');
    const a = ctx.body.data.attributes as { capabilityType: string; settings?: unknown[] };
    const dup = ctx.store
      .referencing('bundleIdCapabilities', bundle.id)
      .some((c) => c.attributes.capabilityType === a.capabilityType);
    if (dup)
      throw invalidAttr(`The capability ${a.capabilityType} is already enabled for this bundle ID`, 'capabilityType');
    const rec = ctx.store.insert({
      type: 'bundleIdCapabilities',
      teamId: ctx.teamId,
      attributes: { capabilityType: a.capabilityType, settings: a.settings ?? [] },
      rels: { bundleId: bundle.id },
    });
    invalidateProfilesOf(ctx.store, bundle.id);
    return created(ctx, rec);
  }),
  /** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-bundleidcapabilities-_id_ */
  'DELETE /v1/bundleIdCapabilities/{id}': (ctx) => {
    const rec = mustGet(ctx, 'bundleIdCapabilities', ctx.pathParams[0]!);
    ctx.store.remove('bundleIdCapabilities', rec.id);
    invalidateProfilesOf(ctx.store, String(rec.rels.bundleId));
    return { status: 204 };
  },
  /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-devices */
  'POST /v1/devices': write<Schemas['DeviceCreateRequest']>((ctx) => {
    const a = ctx.body.data.attributes as { name: string; platform: string; udid: string };
    if (!UDID.test(a.udid)) throw invalidAttr(`'${a.udid}' is not a valid UDID`, 'udid');
    if (ctx.store.list('devices').some((d) => d.teamId === ctx.teamId && d.attributes.udid === a.udid))
      throw invalidAttr(`A device with number '${a.udid}' already exists on this team`, 'udid');
    const rec = ctx.store.insert({
      type: 'devices',
      teamId: ctx.teamId,
      attributes: {
        name: a.name,
        platform: a.platform,
        udid: a.udid,
        deviceClass: a.platform === 'MAC_OS' ? 'MAC' : 'IPHONE',
        model: a.platform === 'MAC_OS' ? 'Mac' : 'iPhone',
        status: 'ENABLED',
        addedDate: now(ctx),
      },
      rels: {},
    });
    return created(ctx, rec);
  }),
  /** https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-devices-_id_ */
  'PATCH /v1/devices/{id}': write<Schemas['DeviceUpdateRequest']>((ctx) => {
    const rec: Rec = mustGet(ctx, 'devices', ctx.pathParams[0]!);
    const a = (ctx.body.data.attributes ?? {}) as { name?: string; status?: string };
    if (a.name !== undefined) rec.attributes.name = a.name;
    if (a.status !== undefined) rec.attributes.status = a.status;
    return ok(ctx, rec);
  }),
};
