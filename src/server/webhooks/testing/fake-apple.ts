import { AscendError } from '../../../core/errors.js';
import type { ApiKey } from '../../../credentials/types.js';
import type { AppleWebhook, AppleWebhooks } from '../types.js';

/** App Store Connect's webhooks as a strict fake: apps it knows, every call recorded, anything else fails. */
export class FakeAppleWebhooks implements AppleWebhooks {
  readonly calls: string[] = [];
  /** Every secret Apple was given, for tests that search answers and logs for them. */
  readonly secretsEverSet: string[] = [];
  readonly byApp = new Map<string, (AppleWebhook & { secret: string })[]>();
  failUpdate = false;
  loseCreateAnswer = false;
  failDelete = false;
  private n = 0;
  constructor(apps: string[]) {
    for (const a of apps) this.byApp.set(a, []);
  }
  private app(id: string) {
    const l = this.byApp.get(id);
    if (!l) throw new Error(`unexpected app ${id}`);
    return l;
  }
  private find(id: string) {
    for (const [app, l] of this.byApp) {
      const w = l.find((x) => x.id === id);
      if (w) return { app, w };
    }
    throw new Error(`unexpected webhook ${id}`);
  }
  async list(_k: ApiKey, ascAppId: string) {
    this.calls.push(`list ${ascAppId}`);
    return this.app(ascAppId).map(({ secret: _s, ...w }) => ({ ...w, eventTypes: [...w.eventTypes] }));
  }
  async create(_k: ApiKey, w: Parameters<AppleWebhooks['create']>[1]) {
    this.calls.push(`create ${w.ascAppId}`);
    const made = { id: `wh-${++this.n}`, url: w.url, enabled: true, eventTypes: [...w.eventTypes], secret: w.secret };
    this.app(w.ascAppId).push(made);
    this.secretsEverSet.push(w.secret);
    if (this.loseCreateAnswer) {
      this.loseCreateAnswer = false;
      throw new Error('connection reset');
    }
    return { id: made.id, url: made.url, enabled: true, eventTypes: made.eventTypes };
  }
  async update(_k: ApiKey, id: string, patch: Parameters<AppleWebhooks['update']>[2]) {
    this.calls.push(`update ${id} ${Object.keys(patch).sort().join(',')}`);
    if (this.failUpdate) throw new AscendError('ASC_FORBIDDEN', 'no');
    const { w } = this.find(id);
    if (patch.url) w.url = patch.url;
    if (patch.secret) {
      w.secret = patch.secret;
      this.secretsEverSet.push(patch.secret);
    }
    if (patch.enabled !== undefined) w.enabled = patch.enabled;
    if (patch.eventTypes) w.eventTypes = [...patch.eventTypes];
  }
  async delete(_k: ApiKey, id: string) {
    this.calls.push(`delete ${id}`);
    if (this.failDelete) throw new AscendError('ASC_UNAUTHORIZED', 'revoked');
    const { app, w } = this.find(id);
    this.byApp.set(
      app,
      this.app(app).filter((x) => x !== w),
    );
  }
  async readState(): Promise<string | null> {
    throw new Error('unexpected readState');
  }
}
