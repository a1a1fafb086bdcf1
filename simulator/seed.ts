import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../src/core/clock.js';
import type { SimKey } from './auth.js';
import type { ResourceAttributes } from './records.js';
import { DEFAULT_ROLE_RULES, type RoleRule } from './roles.js';
import { type Rec, Store } from './store.js';

const platform = z.enum(['IOS', 'MAC_OS', 'TV_OS', 'VISION_OS']);

/** The seed file format, documented in docs/SIMULATOR.md. */
export const SeedSchema = z
  .object({
    teams: z
      .array(
        z
          .object({
            id: z.string().min(1),
            name: z.string(),
            issuerId: z.string().regex(/^[0-9a-fA-F-]{36}$/),
            agreementsSigned: z.boolean().default(true),
          })
          .strict(),
      )
      .min(1),
    keys: z
      .array(
        z
          .object({
            keyId: z.string().regex(/^[A-Z0-9]{10}$/),
            team: z.string(),
            role: z.string().default('APP_MANAGER'),
            publicKey: z.string().optional(),
            privateKey: z.string().optional(),
            individual: z.boolean().default(false),
            revoked: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    apps: z
      .array(
        z
          .object({
            id: z.string().regex(/^\d+$/).optional(),
            team: z.string(),
            bundleId: z.string(),
            name: z.string(),
            sku: z.string().optional(),
            primaryLocale: z.string().default('en-US'),
          })
          .strict(),
      )
      .default([]),
    betaGroups: z
      .array(
        z
          .object({
            app: z.string(),
            name: z.string(),
            isInternalGroup: z.boolean().default(false),
            id: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    builds: z
      .array(
        z
          .object({
            app: z.string(),
            version: z.string(),
            buildNumber: z.string(),
            platform: platform.default('IOS'),
            processingState: z.enum(['PROCESSING', 'FAILED', 'INVALID', 'VALID']).default('VALID'),
            uploadedDate: z.string().optional(),
            /** Relative to the simulator's "now", so a seed stays fresh (builds expire after 90 days). */
            uploadedDaysAgo: z.number().nonnegative().optional(),
            usesNonExemptEncryption: z.boolean().optional(),
          })
          .strict(),
      )
      .default([]),
    appStoreVersions: z
      .array(
        z
          .object({
            app: z.string(),
            versionString: z.string(),
            platform: platform.default('IOS'),
            appVersionState: z.string().default('READY_FOR_DISTRIBUTION'),
            releaseType: z.enum(['MANUAL', 'AFTER_APPROVAL', 'SCHEDULED']).default('AFTER_APPROVAL'),
          })
          .strict(),
      )
      .default([]),
    /** Refuse every `sourceFileChecksums` at commit with Apple's 409 (docs/SIMULATOR.md). */
    refuseChecksums: z.boolean().optional(),
    roleRules: z
      .array(
        z.object({ pattern: z.string(), roles: z.array(z.string()), teamKeysOnly: z.boolean().optional() }).strict(),
      )
      .optional(),
  })
  .strict();

export type SeedInput = z.input<typeof SeedSchema>;

export const DEFAULT_SEED: SeedInput = {
  teams: [{ id: 'SANDBOXTM1', name: 'Sandbox Team', issuerId: '5d1a2c3e-4f50-4a6b-e053-0824d011072a' }],
  apps: [
    { id: '1000000001', team: 'SANDBOXTM1', bundleId: 'com.example.sandbox.one', name: 'Sandbox One', sku: 'SANDBOX1' },
    { id: '1000000002', team: 'SANDBOXTM1', bundleId: 'com.example.sandbox.two', name: 'Sandbox Two', sku: 'SANDBOX2' },
  ],
  betaGroups: [
    { app: 'com.example.sandbox.one', name: 'Internal Testers', isInternalGroup: true },
    { app: 'com.example.sandbox.one', name: 'External Testers', isInternalGroup: false },
    { app: 'com.example.sandbox.two', name: 'QA', isInternalGroup: true },
  ],
  builds: [
    { app: 'com.example.sandbox.one', version: '1.0.0', buildNumber: '1', uploadedDaysAgo: 2 },
    { app: 'com.example.sandbox.one', version: '1.0.0', buildNumber: '2', uploadedDaysAgo: 1 },
  ],
};

const DAY_MS = 86_400_000;

/** Adds a build and its pre-release version (the version train), as processing would. */
export function addBuild(
  store: Store,
  app: { id: string; teamId: string },
  b: {
    version: string;
    buildNumber: string;
    platform: NonNullable<ResourceAttributes['preReleaseVersions']['platform']>;
    processingState: string;
    uploadedDate: string;
    usesNonExemptEncryption?: boolean;
  },
  /** The simulator's "now": a build uploaded more than 90 days before it is expired. */
  now: number,
): string {
  let prv = store
    .list('preReleaseVersions')
    .find((p) => p.rels.app === app.id && p.attributes.version === b.version && p.attributes.platform === b.platform);
  prv ??= store.insert({
    type: 'preReleaseVersions',
    teamId: app.teamId,
    attributes: { version: b.version, platform: b.platform },
    rels: { app: app.id },
  });
  const uploaded = Date.parse(b.uploadedDate);
  const attributes: Record<string, unknown> = {
    version: b.buildNumber,
    uploadedDate: new Date(uploaded).toISOString(),
    expirationDate: new Date(uploaded + 90 * DAY_MS).toISOString(),
    expired: uploaded + 90 * DAY_MS <= now,
    minOsVersion: '16.0',
    processingState: b.processingState,
    buildAudienceType: 'APP_STORE_ELIGIBLE',
  };
  if (b.usesNonExemptEncryption !== undefined) attributes.usesNonExemptEncryption = b.usesNonExemptEncryption;
  const build = store.insert({
    type: 'builds',
    teamId: app.teamId,
    attributes,
    rels: { app: app.id, preReleaseVersion: prv.id, betaGroups: [] },
  });
  // Every build has one buildBetaDetail; without an export-compliance answer testers cannot get it.
  const ready = b.processingState === 'VALID';
  const compliance = b.usesNonExemptEncryption === undefined ? 'MISSING_EXPORT_COMPLIANCE' : 'READY_FOR_BETA_TESTING';
  const detail = store.insert({
    type: 'buildBetaDetails',
    teamId: app.teamId,
    attributes: {
      autoNotifyEnabled: false,
      internalBuildState: ready ? compliance : 'PROCESSING',
      externalBuildState: ready
        ? compliance === 'READY_FOR_BETA_TESTING'
          ? 'READY_FOR_BETA_SUBMISSION'
          : compliance
        : 'PROCESSING',
    },
    rels: { build: build.id },
  });
  build.rels.buildBetaDetail = detail.id;
  return build.id;
}

export function publicPemOf(privateOrPublic: string): string {
  const key = privateOrPublic.includes('PRIVATE KEY')
    ? createPublicKey(createPrivateKey(privateOrPublic))
    : createPublicKey(privateOrPublic);
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

export function newKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

type Seed = z.output<typeof SeedSchema>;

/** App Store versions of the seed (e.g. a released one, whose train is closed). */
function seedVersions(store: Store, versions: Seed['appStoreVersions'], app: (ref: string) => Rec, now: number): void {
  type Version = ResourceAttributes['appStoreVersions'];
  const legacy: Record<string, Version['appStoreState']> = { READY_FOR_DISTRIBUTION: 'READY_FOR_SALE' };
  for (const v of versions) {
    const a = app(v.app);
    store.insert({
      type: 'appStoreVersions',
      teamId: a.teamId,
      attributes: {
        platform: v.platform,
        versionString: v.versionString,
        // The seed names states as Apple does; an unknown one is the seed author's to fix.
        appVersionState: v.appVersionState as Version['appVersionState'],
        appStoreState: legacy[v.appVersionState] ?? (v.appVersionState as Version['appStoreState']),
        releaseType: v.releaseType,
        createdDate: new Date(now).toISOString(),
        downloadable: true,
      },
      rels: { app: a.id, build: null, appStoreVersionPhasedRelease: null },
    });
  }
}

export interface Seeded {
  store: Store;
  roleRules: RoleRule[];
  refuseChecksums: boolean;
}

export function applySeed(input: unknown, clock: Clock, stateFile?: string): Seeded {
  const seed = SeedSchema.parse(input);
  const store = new Store(stateFile);
  for (const t of seed.teams) store.teams.set(t.id, t);
  const team = (id: string) => {
    const t = store.teams.get(id);
    if (!t) throw new Error(`seed names unknown team "${id}"`);
    return t;
  };
  for (const k of seed.keys) {
    const pem = k.publicKey ?? k.privateKey;
    if (!pem) throw new Error(`seed key ${k.keyId} needs publicKey or privateKey`);
    const t = team(k.team);
    const key: SimKey = {
      keyId: k.keyId,
      issuerId: k.individual ? undefined : t.issuerId,
      teamId: t.id,
      role: k.role,
      publicKeyPem: publicPemOf(pem),
      revoked: k.revoked,
    };
    store.keys.set(k.keyId, key);
  }
  for (const a of seed.apps) {
    const t = team(a.team);
    store.insert({
      type: 'apps',
      id: a.id,
      teamId: t.id,
      attributes: {
        name: a.name,
        bundleId: a.bundleId,
        sku: a.sku ?? a.bundleId.toUpperCase().replace(/\W/g, ''),
        primaryLocale: a.primaryLocale,
      },
      rels: {},
    });
  }
  const app = (ref: string) => {
    const found = store.list('apps').find((r) => r.id === ref || r.attributes.bundleId === ref);
    if (!found) throw new Error(`seed names unknown app "${ref}"`);
    return found;
  };
  for (const g of seed.betaGroups) {
    const a = app(g.app);
    store.insert({
      type: 'betaGroups',
      id: g.id,
      teamId: a.teamId,
      attributes: {
        name: g.name,
        isInternalGroup: g.isInternalGroup,
        hasAccessToAllBuilds: false,
        publicLinkEnabled: false,
        feedbackEnabled: true,
        createdDate: new Date(clock.now()).toISOString(),
      },
      rels: { app: a.id },
    });
  }
  for (const { uploadedDaysAgo, ...b } of seed.builds) {
    const uploaded = b.uploadedDate ?? new Date(clock.now() - (uploadedDaysAgo ?? 0) * DAY_MS).toISOString();
    addBuild(store, app(b.app), { ...b, uploadedDate: uploaded }, clock.now());
  }
  seedVersions(store, seed.appStoreVersions, app, clock.now());
  return { store, roleRules: seed.roleRules ?? DEFAULT_ROLE_RULES, refuseChecksums: seed.refuseChecksums ?? false };
}
