import { describe, expect, it } from 'vitest';
import type { DeployRecord } from '../store/deploys.js';
import { type DeployChange, eventOf } from './deploy-events.js';

const d = { id: 'dep_1', teamId: 'team_1' } as DeployRecord;

describe('which deploy changes notify, and their dedup keys', () => {
  it.each<[DeployChange, string | undefined, string | undefined]>([
    [{ kind: 'started' }, 'deploy.started', 'deploy:dep_1:started'],
    [{ kind: 'step', step: 'process', status: 'done' }, 'deploy.processed', 'deploy:dep_1:process'],
    // A resumed run finds it done: the same key, so the team hears once.
    [{ kind: 'step', step: 'process', status: 'already' }, 'deploy.processed', 'deploy:dep_1:process'],
    [{ kind: 'step', step: 'process', status: 'running' }, undefined, undefined],
    [{ kind: 'step', step: 'process', status: 'planned' }, undefined, undefined],
    [{ kind: 'step', step: 'groups', status: 'done' }, 'deploy.in_testflight', 'deploy:dep_1:groups'],
    [{ kind: 'step', step: 'groups', status: 'skipped' }, undefined, undefined],
    [
      { kind: 'step', step: 'submitReview', status: 'done' },
      'deploy.submitted_for_review',
      'deploy:dep_1:submitReview',
    ],
    [{ kind: 'step', step: 'upload', status: 'done' }, undefined, undefined],
    [
      { kind: 'state', state: 'awaiting_approval', step: 'betaReview' },
      'deploy.awaiting_approval',
      'deploy:dep_1:awaiting:betaReview',
    ],
    [{ kind: 'state', state: 'succeeded' }, 'deploy.succeeded', 'deploy:dep_1:succeeded'],
    // Each failure is its own event (a retried deploy may fail again).
    [
      { kind: 'state', state: 'failed', error: { code: 'X', message: 'm' }, seq: 42 },
      'deploy.failed',
      'deploy:dep_1:failed:42',
    ],
  ])('%o → %s', (change, type, key) => {
    const ev = eventOf(d, change);
    expect(ev?.type).toBe(type);
    expect(ev?.key).toBe(key);
  });
});
