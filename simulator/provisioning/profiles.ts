import { conflict } from '../errors.js';
import { mustGet } from '../reads.js';
import type { Rec, Store } from '../store.js';
import type { WriteCtx, WriteHandler } from '../write-helpers.js';
import { created, now, type Schemas, visibleRel, write } from '../write-helpers.js';
import type { Ca } from './ca.js';
import { DISTRIBUTION_TYPES } from './certificates.js';
import { buildProfile, isDistribution, needsDevices, platformOf } from './profile-content.js';

const YEAR_MS = 365 * 86_400_000;

const relInvalid = (detail: string, pointer: string) => conflict('ENTITY_ERROR.RELATIONSHIP.INVALID', detail, pointer);

function certificatesOf(ctx: WriteCtx<Schemas['ProfileCreateRequest']>, profileType: string): Rec[] {
  const items = (ctx.body.data.relationships.certificates.data ?? []) as { id: string }[];
  if (!items.length) throw relInvalid('A profile needs at least one certificate', '/data/relationships/certificates');
  const wantDistribution = isDistribution(profileType);
  return items.map((item, i) => {
    const cert = ctx.store.get('certificates', item.id);
    const pointer = `/data/relationships/certificates/data/${i}/id`;
    if (!cert || !ctx.visible(cert)) throw relInvalid(`There is no certificates with id '${item.id}'`, pointer);
    if (Date.parse(String(cert.attributes.expirationDate)) <= ctx.clock.now())
      throw relInvalid(`The certificate '${item.id}' has expired`, pointer);
    if (DISTRIBUTION_TYPES.has(String(cert.attributes.certificateType)) !== wantDistribution)
      throw relInvalid(
        `A ${profileType} profile cannot use the ${String(cert.attributes.certificateType)} certificate '${item.id}'`,
        pointer,
      );
    return cert;
  });
}

function devicesOf(ctx: WriteCtx<Schemas['ProfileCreateRequest']>, profileType: string): Rec[] {
  const items = (ctx.body.data.relationships.devices?.data ?? []) as { id: string }[];
  if (!needsDevices(profileType)) return [];
  if (!items.length) throw relInvalid(`A ${profileType} profile needs devices`, '/data/relationships/devices');
  return items.map((item, i) => {
    const d = ctx.store.get('devices', item.id);
    if (!d || !ctx.visible(d) || d.attributes.status !== 'ENABLED')
      throw relInvalid(`There is no enabled device with id '${item.id}'`, `/data/relationships/devices/data/${i}/id`);
    return d;
  });
}

export function profileWrites(ca: () => Ca, teamName: (id: string) => string): Record<string, WriteHandler> {
  return {
    /** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-profiles */
    'POST /v1/profiles': write<Schemas['ProfileCreateRequest']>((ctx) => {
      const { name, profileType } = ctx.body.data.attributes as { name: string; profileType: string };
      const bundle = visibleRel(ctx, 'bundleIds', 'bundleId');
      // Apple's wording for a name already used in the team.
      if (ctx.store.list('profiles').some((p) => p.teamId === ctx.teamId && p.attributes.name === name))
        throw conflict(
          'ENTITY_ERROR.ATTRIBUTE.INVALID',
          `Multiple profiles found with the name '${name}'. Please remove the duplicate profiles and try again.`,
          '/data/attributes/name',
        );
      const certs = certificatesOf(ctx, profileType);
      const devices = devicesOf(ctx, profileType);
      const nowMs = ctx.clock.now();
      // A profile lives a year, and never longer than the certificates it embeds.
      const expires = Math.min(nowMs + YEAR_MS, ...certs.map((c) => Date.parse(String(c.attributes.expirationDate))));
      const { uuid, content } = buildProfile(ca(), {
        name,
        profileType,
        team: { id: ctx.teamId, name: teamName(ctx.teamId) },
        bundleId: bundle,
        capabilities: ctx.store.referencing('bundleIdCapabilities', bundle.id),
        certificatesDer: certs.map((c) => Buffer.from(String(c.attributes.certificateContent), 'base64')),
        devices: devices.map((d) => String(d.attributes.udid)),
        now: nowMs,
        expires,
      });
      const rec = ctx.store.insert({
        type: 'profiles',
        teamId: ctx.teamId,
        attributes: {
          name,
          platform: platformOf(profileType)[0] === 'OSX' ? 'MAC_OS' : 'IOS',
          profileType,
          profileState: 'ACTIVE',
          profileContent: content.toString('base64'),
          uuid,
          createdDate: now(ctx),
          expirationDate: new Date(expires).toISOString(),
        },
        rels: { bundleId: bundle.id, certificates: certs.map((c) => c.id), devices: devices.map((d) => d.id) },
      });
      return created(ctx, rec);
    }),
    /** https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-profiles-_id_ */
    'DELETE /v1/profiles/{id}': (ctx) => {
      const rec = mustGet(ctx, 'profiles', ctx.pathParams[0]!);
      ctx.store.remove('profiles', rec.id);
      return { status: 204 };
    },
  };
}

/**
 * Profile states by the simulator's clock: INVALID once a certificate it embeds is revoked or expired, its
 * bundle ID's capabilities changed, or it expired itself. Returns whether anything changed.
 */
export function refreshProfileStates(store: Store, nowMs: number): boolean {
  let changed = false;
  for (const p of store.list('profiles')) {
    const certIds = (p.rels.certificates as string[] | undefined) ?? [];
    const certOk = certIds.every((id) => {
      const c = store.get('certificates', id);
      return c !== undefined && Date.parse(String(c.attributes.expirationDate)) > nowMs;
    });
    const valid = certOk && !p.internal?.stale && Date.parse(String(p.attributes.expirationDate)) > nowMs;
    const state = valid ? 'ACTIVE' : 'INVALID';
    if (p.attributes.profileState !== state) {
      p.attributes.profileState = state;
      changed = true;
    }
  }
  return changed;
}
