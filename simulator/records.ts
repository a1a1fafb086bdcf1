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
