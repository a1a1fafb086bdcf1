import { AscApiError } from '../../asc/http/errors.js';
import { idempotentWrite, writeOnce } from '../../asc/http/reconcile.js';
import {
  type BetaAppReviewSubmission,
  createBetaAppReviewSubmission,
  listBetaAppReviewSubmissions,
} from '../../asc/resources/beta-app-review-submissions.js';
import {
  type BetaBuildLocalization,
  createBetaBuildLocalization,
  listBetaBuildLocalizations,
  updateBetaBuildLocalization,
} from '../../asc/resources/beta-build-localizations.js';
import { addBuildToGroups, buildGroupIds, setUsesNonExemptEncryption } from '../../asc/resources/builds.js';
import type { BuildRef, GroupRef } from '../deploy-types.js';
import { defineStep } from '../pipeline.js';
import { need } from './local.js';

/** The processed build, or null in a dry run where it does not exist yet (then nothing can be read). */
const buildOf = (out: { process?: BuildRef | null }) => need(out.process, 'process');

interface ComplianceInput {
  build: BuildRef | null;
  value: boolean;
}

/** Export compliance: Apple takes it from Info.plist when the plist answers; otherwise from --encryption. */
export const complianceStep = defineStep({
  name: 'compliance',
  input: ({ out }): ComplianceInput => ({
    build: buildOf(out),
    value: need(out.preflight, 'preflight').usesNonExemptEncryption,
  }),
  read: async (input: ComplianceInput) => input.build?.usesNonExemptEncryption ?? null,
  plan: (input, current: boolean | null) =>
    current !== null
      ? {
          actions: [],
          output: { usesNonExemptEncryption: current },
          found: `export compliance answered: usesNonExemptEncryption=${current}`,
        }
      : {
          actions: [{ kind: 'setCompliance' as const, usesNonExemptEncryption: input.value }],
          output: { usesNonExemptEncryption: input.value },
          found: '',
        },
  apply: async (input, _current, _plan, env) => {
    // A PATCH of one attribute to one value: sending it again after a lost answer changes nothing.
    await idempotentWrite(env.client, () => setUsesNonExemptEncryption(env.client, input.build!.id, input.value));
    return { usesNonExemptEncryption: input.value };
  },
});

interface WhatsNewInput {
  buildId: string | null;
  text: string;
  locale: string;
}

const findLocalization = async (client: Parameters<typeof listBetaBuildLocalizations>[0], i: WhatsNewInput) =>
  i.buildId
    ? (await listBetaBuildLocalizations(client, i.buildId)).find((l) => l.attributes?.locale === i.locale)
    : undefined;

/** "What to Test" for one locale: created, or updated when its text differs. */
export const whatsNewStep = defineStep({
  name: 'whatsNew',
  input: ({ opts, out }): WhatsNewInput | { skip: string } =>
    opts.whatsNew
      ? { buildId: buildOf(out)?.id ?? null, text: opts.whatsNew, locale: opts.locale }
      : { skip: 'no --whats-new given' },
  read: (input: WhatsNewInput, env) => findLocalization(env.client, input),
  plan: (input, existing: BetaBuildLocalization | undefined) =>
    existing && existing.attributes?.whatsNew === input.text
      ? {
          actions: [],
          output: { id: existing.id, locale: input.locale },
          found: `"What to Test" (${input.locale}) is already set`,
        }
      : {
          actions: [{ kind: 'setWhatsNew' as const, locale: input.locale, existingId: existing?.id ?? null }],
          output: null,
          found: '',
        },
  apply: async (input, existing, _plan, env) => {
    const { client } = env;
    const loc = existing
      ? await idempotentWrite(client, () => updateBetaBuildLocalization(client, existing.id, input.text))
      : await writeOnce(
          client,
          () => createBetaBuildLocalization(client, input.buildId!, input.locale, input.text),
          () => findLocalization(client, input),
        );
    return { id: loc.id, locale: input.locale };
  },
});

interface GroupsInput {
  buildId: string | null;
  groups: GroupRef[];
}

/** Adds the build to the beta groups it is not in yet. */
export const groupsStep = defineStep({
  name: 'groups',
  input: ({ opts, out }): GroupsInput | { skip: string } =>
    opts.groups.length
      ? { buildId: buildOf(out)?.id ?? null, groups: need(out.remotePreflight, 'remotePreflight').groups }
      : { skip: 'no --group given' },
  read: async (input: GroupsInput, env) => (input.buildId ? await buildGroupIds(env.client, input.buildId) : []),
  plan: (input, current: string[]) => {
    const missing = input.groups.filter((g) => !current.includes(g.id));
    return missing.length
      ? { actions: [{ kind: 'addToGroups' as const, groups: missing }], output: input.groups, found: '' }
      : { actions: [], output: input.groups, found: `already in ${input.groups.map((g) => g.name).join(', ')}` };
  },
  apply: async (input, _current, plan, env) => {
    const action = plan.actions[0];
    const ids = action?.kind === 'addToGroups' ? action.groups.map((g) => g.id) : [];
    // Adding a linkage that exists already is a no-op at Apple, so this write is safe to repeat.
    await idempotentWrite(env.client, () => addBuildToGroups(env.client, input.buildId!, ids));
    return input.groups;
  },
});

const betaState = (s: BetaAppReviewSubmission) => ({
  id: s.id,
  betaReviewState: s.attributes?.betaReviewState ?? 'WAITING_FOR_REVIEW',
});

/** External beta review: requested once, when asked or when an external group needs it. */
export const betaReviewStep = defineStep({
  name: 'betaReview',
  irreversible: true,
  input: ({ opts, out }): { buildId: string | null } | { skip: string } =>
    opts.betaReview ||
    (out.remotePreflight?.groups ?? []).some((g) => opts.groups.includes(g.name) && !g.isInternalGroup)
      ? { buildId: buildOf(out)?.id ?? null }
      : { skip: 'internal groups only: no beta review needed' },
  read: async (input: { buildId: string | null }, env) =>
    input.buildId ? (await listBetaAppReviewSubmissions(env.client, input.buildId))[0] : undefined,
  plan: (_input, existing: BetaAppReviewSubmission | undefined) =>
    existing
      ? {
          actions: [],
          output: betaState(existing),
          found: `beta review already requested (${existing.attributes?.betaReviewState})`,
        }
      : { actions: [{ kind: 'submitBetaReview' as const }], output: null, found: '' },
  apply: async (input, _existing, _plan, env) => {
    const find = async () => (await listBetaAppReviewSubmissions(env.client, input.buildId!))[0];
    // Apple refuses a second build of the same version while one waits for or is in beta review (409
    // STATE_ERROR.ANOTHER_BUILD_IN_REVIEW, "Another build is in review"). Peers fail the run or expire the
    // other build; two deploys of one version must not hurt each other, so this one waits its turn.
    for (let waitMs = 15_000; ; waitMs = Math.min(waitMs * 2, 5 * 60_000)) {
      try {
        return betaState(
          await writeOnce(env.client, () => createBetaAppReviewSubmission(env.client, input.buildId!), find),
        );
      } catch (err) {
        if (!anotherBuildInReview(err) || env.clock.now() + waitMs > env.deadline) throw err;
        env.emit({
          type: 'note',
          text: `another build of this version is in beta review; submitting again in ${Math.round(waitMs / 1000)} s`,
        });
        await env.sleep(waitMs, env.signal);
      }
    }
  },
});

const anotherBuildInReview = (err: unknown): boolean =>
  err instanceof AscApiError &&
  err.status === 409 &&
  err.errors.some((e) => e.code === 'STATE_ERROR.ANOTHER_BUILD_IN_REVIEW');
