import type { AscClient } from '../../asc/http/client.js';
import { idempotentWrite, writeOnce } from '../../asc/http/reconcile.js';
import {
  type AppStoreVersion,
  attachBuild,
  createAppStoreVersion,
  createPhasedRelease,
  getAppStoreVersion,
  listAppStoreVersions,
  updateAppStoreVersionRelease,
} from '../../asc/resources/app-store-versions.js';
import type { Platform } from '../../asc/resources/common.js';
import { AscendError } from '../../core/errors.js';
import type { Action, DeployOptions, StepOutputs } from '../deploy-types.js';
import { defineStep, type Plan } from '../pipeline.js';
import { need } from './local.js';

const EDITABLE = new Set([
  'PREPARE_FOR_SUBMISSION',
  'DEVELOPER_REJECTED',
  'REJECTED',
  'METADATA_REJECTED',
  'INVALID_BINARY',
]);

export interface VersionInput {
  appId: string;
  platform: Platform;
  version: string;
  release: DeployOptions['release'];
  phased: boolean;
  buildId: string | null;
}

export interface VersionFound {
  version: AppStoreVersion;
  attached: string | null;
  phased: { id: string; phasedReleaseState: string } | null;
}

type VersionOut = StepOutputs['appStore'];

const find = async (client: AscClient, i: VersionInput) =>
  (await listAppStoreVersions(client, i.appId, { platform: i.platform, versionString: i.version }))[0];

/** App Store version (create or reuse), release type, build and phased release. */
export const appStoreStep = defineStep({
  name: 'appStore',
  input: ({ opts, out }): VersionInput | { skip: string } => {
    if (!opts.appStore) return { skip: 'no --app-store given' };
    const local = need(out.preflight, 'preflight');
    return {
      appId: need(out.remotePreflight, 'remotePreflight').appId,
      platform: local.platform,
      version: local.version,
      release: opts.release,
      phased: opts.phased,
      buildId: need(out.process, 'process')?.id ?? null,
    };
  },
  read: async (input: VersionInput, env): Promise<VersionFound | null> => {
    const v = await find(env.client, input);
    if (!v) return null;
    const full = await getAppStoreVersion(env.client, v.id);
    const phasedId = full.data.relationships?.appStoreVersionPhasedRelease?.data?.id;
    const inc = full.included?.find((r) => r.type === 'appStoreVersionPhasedReleases' && r.id === phasedId) as
      | { attributes?: { phasedReleaseState?: string } }
      | undefined;
    return {
      version: v,
      attached: full.data.relationships?.build?.data?.id ?? null,
      phased: phasedId ? { id: phasedId, phasedReleaseState: inc?.attributes?.phasedReleaseState ?? 'INACTIVE' } : null,
    };
  },
  plan: planVersion,
  apply: async (input, found, plan, env) => {
    const { client } = env;
    let v = found?.version;
    let phased = found?.phased ?? null;
    for (const a of plan.actions) {
      if (a.kind === 'createVersion') v = await createVersion(client, input);
      const id = v!.id;
      if (a.kind === 'setRelease')
        v = await idempotentWrite(() => updateAppStoreVersionRelease(client, id, a.releaseType, a.date));
      // PATCH of a to-one linkage: repeating it sets the same value, so it is safe after a lost answer.
      if (a.kind === 'attachBuild') await idempotentWrite(() => attachBuild(client, id, input.buildId!));
      if (a.kind === 'createPhasedRelease') phased = await createPhased(client, id);
    }
    return versionOut(v!, input, phased);
  },
});

function versionOut(v: AppStoreVersion, input: VersionInput, phased: VersionFound['phased']): NonNullable<VersionOut> {
  return {
    id: v.id,
    versionString: input.version,
    releaseType: v.attributes?.releaseType ?? input.release.type,
    appVersionState: v.attributes?.appVersionState ?? 'PREPARE_FOR_SUBMISSION',
    phasedRelease: phased,
  };
}

function planVersion(input: VersionInput, found: VersionFound | null): Plan<VersionOut> {
  const { release } = input;
  const wantDate = release.type === 'SCHEDULED' ? release.date : undefined;
  if (!found) {
    const actions: Action[] = [
      { kind: 'createVersion', version: input.version, releaseType: release.type, date: wantDate },
      { kind: 'attachBuild', buildId: input.buildId },
    ];
    if (input.phased) actions.push({ kind: 'createPhasedRelease' });
    return { actions, output: null, found: '' };
  }
  const v = found.version;
  const state = v.attributes?.appVersionState ?? 'PREPARE_FOR_SUBMISSION';
  const output = versionOut(v, input, found.phased);
  if (!EDITABLE.has(state)) {
    if (found.attached && found.attached === input.buildId)
      return { actions: [], output, found: `version ${input.version} is ${state} with this build` };
    throw new AscendError(
      'VERSION_TRAIN_CLOSED',
      `App Store version ${input.version} is ${state} and cannot take build ${input.buildId ?? `${input.version}`}`,
    );
  }
  const actions: Action[] = [];
  if (v.attributes?.releaseType !== release.type || (wantDate && v.attributes?.earliestReleaseDate !== wantDate))
    actions.push({ kind: 'setRelease', releaseType: release.type, date: wantDate });
  if (!input.buildId || found.attached !== input.buildId) actions.push({ kind: 'attachBuild', buildId: input.buildId });
  if (input.phased && !found.phased) actions.push({ kind: 'createPhasedRelease' });
  return { actions, output, found: `version ${input.version} is ready with this build` };
}

function createVersion(client: AscClient, input: VersionInput): Promise<AppStoreVersion> {
  return writeOnce(
    () =>
      createAppStoreVersion(client, {
        appId: input.appId,
        platform: input.platform,
        versionString: input.version,
        releaseType: input.release.type,
        earliestReleaseDate: input.release.date,
      }),
    () => find(client, input),
  );
}

async function createPhased(client: AscClient, versionId: string): Promise<NonNullable<VersionFound['phased']>> {
  const p = await writeOnce(
    () => createPhasedRelease(client, versionId),
    async () => {
      const id = (await getAppStoreVersion(client, versionId)).data.relationships?.appStoreVersionPhasedRelease?.data
        ?.id;
      return id
        ? {
            type: 'appStoreVersionPhasedReleases' as const,
            id,
            attributes: { phasedReleaseState: 'INACTIVE' as const },
          }
        : undefined;
    },
  );
  return { id: p.id, phasedReleaseState: p.attributes?.phasedReleaseState ?? 'INACTIVE' };
}
