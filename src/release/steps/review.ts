import type { AscClient } from '../../asc/http/client.js';
import { writeOnce } from '../../asc/http/reconcile.js';
import type { Platform } from '../../asc/resources/common.js';
import {
  addVersionToSubmission,
  createReviewSubmission,
  listReviewSubmissionItems,
  listReviewSubmissions,
  type ReviewSubmission,
  submitReviewSubmission,
} from '../../asc/resources/review-submissions.js';
import { AscendError } from '../../core/errors.js';
import type { Action, StepOutputs } from '../deploy-types.js';
import { defineStep, type Plan } from '../pipeline.js';
import { need } from './local.js';
import { SUBMISSION_IN_PROGRESS } from './remote-app-store.js';

const OPEN = new Set(['READY_FOR_REVIEW', 'UNRESOLVED_ISSUES']);

export interface ReviewInput {
  appId: string;
  platform: Platform;
  version: string;
  /** null in a dry run that would create the version. */
  versionId: string | null;
}

interface Submissions {
  subs: { s: ReviewSubmission; versions: (string | undefined)[] }[];
}

type ReviewOut = StepOutputs['submitReview'];
const stateOf = (s: ReviewSubmission) => ({ id: s.id, state: s.attributes?.state ?? 'READY_FOR_REVIEW' });
const inProgress = (s: ReviewSubmission) => SUBMISSION_IN_PROGRESS.has(String(s.attributes?.state));

/** The review submission: reuse an open one or create it, add the version, submit. Apple allows one at a time. */
export const submitReviewStep = defineStep({
  name: 'submitReview',
  irreversible: true,
  input: ({ opts, out }): ReviewInput | { skip: string } => {
    if (!opts.appStore) return { skip: 'no --app-store given' };
    if (!opts.submitReview) return { skip: 'no --submit-review given' };
    const local = need(out.preflight, 'preflight');
    return {
      appId: need(out.remotePreflight, 'remotePreflight').appId,
      platform: local.platform,
      version: local.version,
      versionId: need(out.appStore, 'appStore')?.id ?? null,
    };
  },
  read: async (input: ReviewInput, env): Promise<Submissions> => {
    const subs = await listReviewSubmissions(env.client, input.appId, input.platform);
    return {
      subs: await Promise.all(
        subs.map(async (s) => ({
          s,
          versions: (await listReviewSubmissionItems(env.client, s.id)).map(
            (i) => i.relationships?.appStoreVersion?.data?.id,
          ),
        })),
      ),
    };
  },
  plan: planReview,
  apply: async (input, found, plan, env) => applyReview(env.client, input, found, plan.actions),
});

function planReview(input: ReviewInput, { subs }: Submissions): Plan<ReviewOut> {
  const mine = subs.filter((x) => input.versionId && x.versions.includes(input.versionId));
  const ours = mine.find((x) => x.s.attributes?.state !== 'COMPLETE');
  if (ours && inProgress(ours.s))
    return {
      actions: [],
      output: stateOf(ours.s),
      found: `already submitted for review (${ours.s.attributes?.state})`,
    };
  const done = mine.find((x) => x.s.attributes?.state === 'COMPLETE');
  if (done && !ours) return { actions: [], output: stateOf(done.s), found: 'this version was already reviewed' };
  const busy = subs.find((x) => inProgress(x.s) && !mine.includes(x));
  if (busy) {
    // remotePreflight names this before anything is uploaded; it is checked again here because another
    // submission may have started since.
    throw new AscendError(
      'REVIEW_IN_PROGRESS',
      `another review submission (${busy.s.id}) is ${busy.s.attributes?.state} for this app; Apple allows one at a time`,
    );
  }
  const open = ours?.s ?? subs.find((x) => OPEN.has(String(x.s.attributes?.state)))?.s;
  const actions: Action[] = [
    open ? { kind: 'reuseReviewSubmission', id: open.id } : { kind: 'createReviewSubmission' },
  ];
  if (!ours) actions.push({ kind: 'addVersionToSubmission', version: input.version });
  actions.push({ kind: 'submitForReview', version: input.version });
  return { actions, output: open ? stateOf(open) : null, found: '' };
}

async function applyReview(client: AscClient, input: ReviewInput, found: Submissions, actions: Action[]) {
  const { appId, platform } = input;
  const versionId = input.versionId!;
  const reuse = actions.find((a) => a.kind === 'reuseReviewSubmission');
  const findOpen = async () =>
    (await listReviewSubmissions(client, appId, platform)).find((s) => OPEN.has(String(s.attributes?.state)));
  const open = reuse
    ? found.subs.find((x) => x.s.id === reuse.id)!.s
    : await writeOnce(() => createReviewSubmission(client, appId, platform), findOpen);
  const sid = open.id;
  const hasVersion = async () =>
    (await listReviewSubmissionItems(client, sid)).find(
      (i) => i.relationships?.appStoreVersion?.data?.id === versionId,
    );
  if (!(await hasVersion())) await writeOnce(() => addVersionToSubmission(client, sid, versionId), hasVersion);
  const submitted = await writeOnce(
    () => submitReviewSubmission(client, sid),
    async () => (await listReviewSubmissions(client, appId, platform)).find((s) => s.id === sid && inProgress(s)),
  );
  return stateOf(submitted);
}
