import type { components } from '../src/asc/schema/openapi-types.js';

/** What the simulator stores: one record per resource, typed by Apple's schema where it is known. */

type S = components['schemas'];
type AttributesOf<N extends keyof S> = S[N] extends { attributes?: infer A } ? NonNullable<A> : never;

/** The attributes of every resource type the simulator stores, as Apple's schema declares them. */
export interface ResourceAttributes {
  apps: AttributesOf<'App'>;
  builds: AttributesOf<'Build'>;
  buildUploads: AttributesOf<'BuildUpload'>;
  buildUploadFiles: AttributesOf<'BuildUploadFile'>;
  betaGroups: AttributesOf<'BetaGroup'>;
  betaTesters: AttributesOf<'BetaTester'>;
  preReleaseVersions: AttributesOf<'PrereleaseVersion'>;
  buildBetaDetails: AttributesOf<'BuildBetaDetail'>;
  betaBuildLocalizations: AttributesOf<'BetaBuildLocalization'>;
  betaAppReviewSubmissions: AttributesOf<'BetaAppReviewSubmission'>;
  appStoreVersions: AttributesOf<'AppStoreVersion'>;
  appStoreVersionPhasedReleases: AttributesOf<'AppStoreVersionPhasedRelease'>;
  reviewSubmissions: AttributesOf<'ReviewSubmission'>;
  reviewSubmissionItems: AttributesOf<'ReviewSubmissionItem'>;
  webhooks: AttributesOf<'Webhook'>;
  webhookDeliveries: AttributesOf<'WebhookDelivery'>;
  webhookEvents: AttributesOf<'WebhookEvent'>;
}
export type ResourceType = keyof ResourceAttributes;
/** A type's attributes: Apple's schema for the types above, plain JSON members for any other. */
export type Attributes<T extends string> = T extends ResourceType ? ResourceAttributes[T] : Record<string, unknown>;

/** A reserved file's bytes on disk and which parts fully arrived. */
export interface FileInternal {
  dataPath: string;
  received: number[];
  committed: boolean;
}

/** What processing compares with the declared upload, read from the binary at commit. */
export interface BinaryFacts {
  bundleId: string | null;
  shortVersion: string | null;
  buildVersion: string | null;
  usesNonExemptEncryption: boolean | null;
  kind: 'ipa' | 'pkg';
  /** Set when the binary could not be read as an app archive. */
  error?: string;
}

/** A webhook delivery's schedule (simulator/webhooks/deliveries.ts). */
export interface DeliveryInternal {
  attempts: number;
  /** Simulator-clock ms of the next attempt; absent once it succeeded or gave up. */
  nextAt?: number;
  /** Faults drawn for it (`--webhook-faults`): first attempt lost, sent twice, held behind the next one. */
  drop?: boolean;
  duplicate?: boolean;
  reorder?: boolean;
}

/** Simulator-only bookkeeping (timers, received parts); never serialized into responses. */
export interface RecInternal {
  /** buildUploadFiles */
  file?: FileInternal;
  /** buildUploads: when processing ends, and what the binary said. */
  processUntil?: number;
  binary?: BinaryFacts;
  /** builds: when processing ends; whether a PATCH expired the build (apart from time). */
  validAt?: number;
  expiredByPatch?: boolean;
  /** review submissions: when review starts and ends, and for which app. */
  reviewAt?: number;
  doneAt?: number;
  appId?: string;
  /** certificates: when the simulator's CA issued it. */
  issuedAt?: string;
  /** profiles: its bundle ID's capabilities changed since it was made (Apple then marks it INVALID). */
  stale?: boolean;
  /** webhooks: the secret deliveries are signed with (write-only at Apple: never serialized). */
  webhookSecret?: string;
  /** webhook deliveries: the attempts made, when the next one is due, a held-back (reordered) one. */
  delivery?: DeliveryInternal;
  /** the provisioning CA's own record: its certificates and keys. */
  ca?: {
    rootPem: string;
    rootKeyPem: string;
    wwdrPem: string;
    wwdrKeyPem: string;
    signerPem: string;
    signerKeyPem: string;
  };
}

/** One stored resource. `rels` may hold links the public schema does not expose (e.g. a build upload's app). */
export interface Rec<T extends string = string> {
  type: T;
  id: string;
  teamId: string;
  attributes: Attributes<T>;
  rels: Record<string, string | string[] | null>;
  internal?: RecInternal;
}
