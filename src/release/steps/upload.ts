import { type Build, getBuild } from '../../asc/resources/builds.js';
import { AscendError } from '../../core/errors.js';
import type { BuildRef, LocalFacts, OwnBuild, StepOutputs } from '../deploy-types.js';
import { defineStep, type Plan, type StepEnv } from '../pipeline.js';
import { uploadBuild, waitForUpload } from '../upload-build.js';
import { waitForBuild } from '../wait-build.js';
import { need } from './local.js';

export const buildRef = (b: Build): BuildRef => ({
  id: b.id,
  processingState: b.attributes?.processingState ?? 'PROCESSING',
  usesNonExemptEncryption: b.attributes?.usesNonExemptEncryption ?? null,
});

interface UploadStepInput {
  local: LocalFacts;
  appId: string;
  own: OwnBuild;
  concurrency: number;
  wait: boolean;
}

type UploadOut = StepOutputs['upload'];

/**
 * Uploads the build unless App Store Connect already has this exact binary (remotePreflight found it by the
 * previous run's build id or by the upload's MD5). The upload itself — reservation, parts, commit, resume —
 * is upload-build.ts's.
 */
export const uploadStep = defineStep({
  name: 'upload',
  input: ({ opts, out }): UploadStepInput => ({
    local: need(out.preflight, 'preflight'),
    appId: need(out.remotePreflight, 'remotePreflight').appId,
    own: need(out.remotePreflight, 'remotePreflight').own,
    concurrency: opts.concurrency,
    wait: !opts.noWait,
  }),
  read: async (input: UploadStepInput, env) =>
    input.own.buildId ? (await getBuild(env.client, input.own.buildId)).data : null,
  plan: (input, existing: Build | null): Plan<UploadOut> => {
    const { local } = input;
    if (existing)
      return {
        actions: [],
        output: { build: buildRef(existing), upload: null, ...source(local, input.own.md5) },
        found: `build ${local.version} (${local.buildNumber}) is already on App Store Connect (${existing.id})`,
      };
    const actions = input.own.uploadId
      ? [{ kind: 'waitUpload' as const, uploadId: input.own.uploadId }]
      : [
          {
            kind: 'upload' as const,
            file: local.file,
            bytes: local.bytes,
            version: local.version,
            buildNumber: local.buildNumber,
          },
        ];
    return { actions, output: { build: null, upload: null }, found: '' };
  },
  apply: async (input, _existing, plan, env) => {
    if (plan.actions[0]?.kind === 'waitUpload') return adopt(input, plan.actions[0].uploadId, env);
    return upload(input, env);
  },
});

async function upload(input: UploadStepInput, env: StepEnv): Promise<UploadOut> {
  const { local } = input;
  const result = await uploadBuild(
    {
      file: local.file,
      appId: input.appId,
      platform: local.platform,
      version: local.version,
      buildNumber: local.buildNumber,
      concurrency: input.concurrency,
      wait: input.wait,
      deadline: env.deadline,
    },
    {
      ...env,
      onEvent: (e) => {
        if (e.type === 'progress') env.emit(e);
        else if (e.type === 'step' && e.step !== 'done')
          env.emit({ type: 'note', text: `upload: ${e.step}${e.detail ? ` (${e.detail})` : ''}` });
      },
    },
  );
  if (input.wait && !result.buildId)
    throw new AscendError('UPLOAD_REJECTED', `upload ${result.uploadId} completed without a build`);
  // Another client's checksum may be a SHA-256: only an MD5 this run sent names the source file.
  const md5 = input.own.md5 ?? (result.adopted ? undefined : result.md5 || undefined);
  return {
    ...source(local, md5),
    // Apple processes the build next; the process step reads its state.
    build: result.buildId ? { id: result.buildId, processingState: 'PROCESSING', usesNonExemptEncryption: null } : null,
    upload: {
      id: result.uploadId,
      state: result.state,
      fileId: result.fileId,
      md5: result.md5,
      resumed: result.resumed,
      warnings: result.warnings,
    },
  };
}

/** Our own earlier upload of this file is still processing: wait for it instead of uploading again. */
async function adopt(input: UploadStepInput, uploadId: string, env: StepEnv): Promise<UploadOut> {
  const done = await waitForUpload(env.client, uploadId, env);
  const id = done.relationships?.build?.data?.id;
  if (!id)
    throw new AscendError(
      'UPLOAD_REJECTED',
      `Apple did not make a build from upload ${uploadId} of ${input.local.version} (${input.local.buildNumber})`,
      {
        details: { uploadId, errors: done.attributes?.state?.errors ?? [] },
      },
    );
  return {
    build: { id, processingState: 'PROCESSING', usesNonExemptEncryption: null },
    upload: null,
    ...source(input.local, input.own.md5),
  };
}

/** The file the build came from, saved so a later run trusts the build only for this same file. */
const source = (local: LocalFacts, md5: string | undefined): Pick<UploadOut, 'source'> =>
  md5 ? { source: { bytes: local.bytes, md5 } } : {};

/** Waits until Apple has processed the build: VALID goes on, INVALID stops with exit 7, the deadline with 8. */
export const processStep = defineStep({
  name: 'process',
  input: ({ out }) => ({ build: need(out.upload, 'upload').build }),
  read: async (input: { build: BuildRef | null }, env) =>
    input.build ? (await getBuild(env.client, input.build.id)).data : null,
  plan: (_input, b: Build | null): Plan<BuildRef | null> => {
    const state = b?.attributes?.processingState;
    if (b && state === 'VALID') return { actions: [], output: buildRef(b), found: `build ${b.id} is VALID` };
    if (b && state !== 'PROCESSING')
      throw new AscendError('UPLOAD_REJECTED', `Apple processed build ${b.id} as ${state}`, {
        remedy:
          'Open the build in App Store Connect → TestFlight for Apple’s reasons, fix them, raise the build number and upload again.',
      });
    return { actions: [{ kind: 'waitProcessing', buildId: b?.id ?? null }], output: b ? buildRef(b) : null, found: '' };
  },
  apply: async (_input, b, _plan, env) => buildRef(await waitForBuild(env.client, b!.id, env)),
});
