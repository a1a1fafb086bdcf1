import { describe, expect, it } from 'vitest';
import { appleError } from '../../../test/helpers/asc-client.js';
import { assertScriptDone, LOCAL, list, one, scriptedEnv, stepOnce } from '../../../test/release/kit.js';
import type { StepOutputs } from '../deploy-types.js';
import { betaReviewStep, complianceStep, groupsStep, whatsNewStep } from './testflight.js';

const BUILD = { id: 'b1', processingState: 'VALID', usesNonExemptEncryption: null };
const GROUPS = [
  { id: 'g1', name: 'Internal Testers', isInternalGroup: true },
  { id: 'g2', name: 'External Testers', isInternalGroup: false },
];
const out = (over: Partial<StepOutputs> = {}): Partial<StepOutputs> => ({
  preflight: LOCAL,
  remotePreflight: { appId: 'app1', groups: GROUPS, own: { buildId: null, uploadId: null } },
  process: BUILD,
  ...over,
});
const build = (attrs: Record<string, unknown>, rel?: unknown) => ({
  type: 'builds',
  id: 'b1',
  attributes: attrs,
  ...(rel ? { relationships: { betaGroups: { data: rel } } } : {}),
});

describe('compliance step', () => {
  it('answers export compliance when Apple has no answer, with one PATCH', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'PATCH /v1/builds/b1', body: one(build({ usesNonExemptEncryption: false })) },
    ]);
    const r = await stepOnce(complianceStep, env, out());
    expect(r.plan?.actions).toEqual([{ kind: 'setCompliance', usesNonExemptEncryption: false }]);
    expect(r.output).toEqual({ usesNonExemptEncryption: false });
    expect(JSON.parse(fetch.calls[0]!.body!).data.attributes).toEqual({ usesNonExemptEncryption: false });
    assertScriptDone(fetch);
  });

  it('changes nothing when the build already carries an answer (Apple took it from Info.plist)', async () => {
    const { fetch, env } = scriptedEnv([]);
    const r = await stepOnce(complianceStep, env, out({ process: { ...BUILD, usesNonExemptEncryption: true } }));
    expect(r.plan).toMatchObject({ actions: [], output: { usesNonExemptEncryption: true } });
    assertScriptDone(fetch);
  });

  it('in a dry run before the build exists, plans the answer without a request', async () => {
    const { fetch, env } = scriptedEnv([]);
    const r = await stepOnce(complianceStep, env, out({ process: null }), { dryRun: true });
    expect(r.plan?.actions).toEqual([{ kind: 'setCompliance', usesNonExemptEncryption: false }]);
    assertScriptDone(fetch);
  });
});

describe('whatsNew step', () => {
  const loc = (text: string) => ({
    type: 'betaBuildLocalizations',
    id: 'l1',
    attributes: { locale: 'en-US', whatsNew: text },
  });

  it('is skipped without --whats-new', async () => {
    const { fetch, env } = scriptedEnv([]);
    expect((await stepOnce(whatsNewStep, env, out())).skip).toBe('no --whats-new given');
    assertScriptDone(fetch);
  });

  it('creates the localization when there is none', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/betaBuildLocalizations', body: list([]) },
      { expect: 'POST /v1/betaBuildLocalizations', status: 201, body: one(loc('Try it')) },
    ]);
    const r = await stepOnce(whatsNewStep, env, out(), { whatsNew: 'Try it' });
    expect(r.plan?.actions).toEqual([{ kind: 'setWhatsNew', locale: 'en-US', existingId: null }]);
    expect(r.output).toEqual({ id: 'l1', locale: 'en-US' });
    assertScriptDone(fetch);
  });

  it('updates a different text, and leaves the same text alone', async () => {
    const a = scriptedEnv([
      { expect: 'GET /v1/betaBuildLocalizations', body: list([loc('old')]) },
      { expect: 'PATCH /v1/betaBuildLocalizations/l1', body: one(loc('new')) },
    ]);
    const r = await stepOnce(whatsNewStep, a.env, out(), { whatsNew: 'new' });
    expect(r.plan?.actions).toEqual([{ kind: 'setWhatsNew', locale: 'en-US', existingId: 'l1' }]);
    assertScriptDone(a.fetch);
    const b = scriptedEnv([{ expect: 'GET /v1/betaBuildLocalizations', body: list([loc('new')]) }]);
    const same = await stepOnce(whatsNewStep, b.env, out(), { whatsNew: 'new' });
    expect(same.plan).toMatchObject({ actions: [], output: { id: 'l1' } });
    assertScriptDone(b.fetch);
  });
});

describe('groups step', () => {
  it('adds only the groups the build is not in, in one request', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/builds/b1', body: one(build({}, [{ type: 'betaGroups', id: 'g1' }])) },
      { expect: 'POST /v1/builds/b1/relationships/betaGroups', status: 204 },
    ]);
    const r = await stepOnce(groupsStep, env, out(), { groups: ['Internal Testers', 'External Testers'] });
    expect(r.plan?.actions).toEqual([{ kind: 'addToGroups', groups: [GROUPS[1]] }]);
    expect(JSON.parse(fetch.calls[1]!.body!).data).toEqual([{ type: 'betaGroups', id: 'g2' }]);
    expect(r.output).toEqual(GROUPS);
    assertScriptDone(fetch);
  });

  it('changes nothing when the build is in every group already', async () => {
    const { fetch, env } = scriptedEnv([
      {
        expect: 'GET /v1/builds/b1',
        body: one(
          build({}, [
            { type: 'betaGroups', id: 'g1' },
            { type: 'betaGroups', id: 'g2' },
          ]),
        ),
      },
    ]);
    const r = await stepOnce(groupsStep, env, out(), { groups: ['Internal Testers', 'External Testers'] });
    expect(r.plan?.actions).toEqual([]);
    assertScriptDone(fetch);
  });
});

describe('betaReview step', () => {
  const sub = { type: 'betaAppReviewSubmissions', id: 's1', attributes: { betaReviewState: 'WAITING_FOR_REVIEW' } };

  it('is skipped for internal groups only, and irreversible when it runs', async () => {
    const { fetch, env } = scriptedEnv([]);
    expect((await stepOnce(betaReviewStep, env, out(), { groups: ['Internal Testers'] })).skip).toMatch(/internal/);
    expect(betaReviewStep.irreversible).toBe(true);
    assertScriptDone(fetch);
  });

  it('submits once for an external group; a lost answer is reconciled by reading, not sent twice', async () => {
    const { fetch, env } = scriptedEnv([
      { expect: 'GET /v1/betaAppReviewSubmissions', body: list([]) },
      { expect: 'POST /v1/betaAppReviewSubmissions', networkError: true },
      { expect: 'GET /v1/betaAppReviewSubmissions', body: list([sub]) },
    ]);
    const r = await stepOnce(betaReviewStep, env, out(), { groups: ['External Testers'] });
    expect(r.output).toEqual({ id: 's1', betaReviewState: 'WAITING_FOR_REVIEW' });
    expect(fetch.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    assertScriptDone(fetch);
  });

  it('waits while another build of the version is in beta review, then submits once', async () => {
    const busy = {
      status: 409,
      body: appleError(409, 'STATE_ERROR.ANOTHER_BUILD_IN_REVIEW', 'Another build is in review'),
    };
    const { fetch, env, clock, notes } = scriptedEnv([
      { expect: 'GET /v1/betaAppReviewSubmissions', body: list([]) },
      { expect: 'POST /v1/betaAppReviewSubmissions', ...busy },
      { expect: 'POST /v1/betaAppReviewSubmissions', ...busy },
      { expect: 'POST /v1/betaAppReviewSubmissions', status: 201, body: one(sub) },
    ]);
    const t0 = clock.now();
    const r = await stepOnce(betaReviewStep, env, out(), { groups: ['External Testers'] });
    expect(r.output).toEqual({ id: 's1', betaReviewState: 'WAITING_FOR_REVIEW' });
    expect(notes.filter((n) => n.startsWith('another build of this version is in beta review'))).toHaveLength(2);
    // 15 s, then 30 s: backing off, on the injected clock.
    expect(clock.now() - t0).toBeGreaterThanOrEqual(45_000);
    assertScriptDone(fetch);
  });

  it('gives up with Apple’s conflict when the deploy’s deadline comes first', async () => {
    const busy = {
      status: 409,
      body: appleError(409, 'STATE_ERROR.ANOTHER_BUILD_IN_REVIEW', 'Another build is in review'),
    };
    const { fetch, env, clock } = scriptedEnv([
      { expect: 'GET /v1/betaAppReviewSubmissions', body: list([]) },
      { expect: 'POST /v1/betaAppReviewSubmissions', ...busy },
    ]);
    const late = { ...env, deadline: clock.now() + 10_000 };
    await expect(stepOnce(betaReviewStep, late, out(), { groups: ['External Testers'] })).rejects.toMatchObject({
      code: 'ASC_CONFLICT',
    });
    assertScriptDone(fetch);
  });

  it('reports a submission that exists already', async () => {
    const { fetch, env } = scriptedEnv([{ expect: 'GET /v1/betaAppReviewSubmissions', body: list([sub]) }]);
    const r = await stepOnce(betaReviewStep, env, out(), { betaReview: true });
    expect(r.plan).toMatchObject({ actions: [], found: 'beta review already requested (WAITING_FOR_REVIEW)' });
    assertScriptDone(fetch);
  });
});
