import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AscendError } from '../src/core/errors.js';
import type { SimKey } from './auth.js';
import type { Rec } from './records.js';

export type { Rec } from './records.js';

export interface Team {
  id: string;
  name: string;
  issuerId: string;
  /** When false every request of the team's keys answers Apple's agreement 403. */
  agreementsSigned: boolean;
}

export interface Snapshot {
  version: 1;
  teams: Team[];
  keys: SimKey[];
  resources: Rec[];
  seq: number;
  /** The part-URL signing secret (base64), so URLs handed out before a restart still work after it. */
  secret?: string;
}

const Ids = z.union([z.string(), z.array(z.string()), z.null()]);
/** The state file's shape, checked on load: a damaged file is refused, never silently replaced. */
const SnapshotSchema = z.object({
  version: z.literal(1),
  teams: z.array(z.object({ id: z.string(), name: z.string(), issuerId: z.string(), agreementsSigned: z.boolean() })),
  keys: z.array(
    z.object({
      keyId: z.string(),
      issuerId: z.string().optional(),
      teamId: z.string(),
      role: z.string(),
      publicKeyPem: z.string(),
      revoked: z.boolean(),
    }),
  ),
  resources: z.array(
    z.object({
      type: z.string(),
      id: z.string(),
      teamId: z.string(),
      attributes: z.record(z.string(), z.unknown()),
      rels: z.record(z.string(), Ids),
      internal: z
        .object({
          file: z.object({ dataPath: z.string(), received: z.array(z.number()), committed: z.boolean() }).optional(),
          processUntil: z.number().optional(),
          binary: z
            .object({
              bundleId: z.string().nullable(),
              shortVersion: z.string().nullable(),
              buildVersion: z.string().nullable(),
              usesNonExemptEncryption: z.boolean().nullable(),
              kind: z.enum(['ipa', 'pkg']),
              error: z.string().optional(),
            })
            .optional(),
          validAt: z.number().optional(),
          expiredByPatch: z.boolean().optional(),
          reviewAt: z.number().optional(),
          doneAt: z.number().optional(),
          appId: z.string().optional(),
          issuedAt: z.string().optional(),
          stale: z.boolean().optional(),
          webhookSecret: z.string().optional(),
          delivery: z
            .object({
              attempts: z.number().int().nonnegative(),
              nextAt: z.number().optional(),
              drop: z.boolean().optional(),
              duplicate: z.boolean().optional(),
              reorder: z.boolean().optional(),
            })
            .optional(),
          ca: z
            .object({
              rootPem: z.string(),
              rootKeyPem: z.string(),
              wwdrPem: z.string(),
              wwdrKeyPem: z.string(),
              signerPem: z.string(),
              signerKeyPem: z.string(),
            })
            .optional(),
        })
        .strict()
        .optional(),
    }),
  ),
  seq: z.number().int().nonnegative(),
  secret: z
    .string()
    .regex(/^[A-Za-z0-9+/]{43}=$/)
    .optional(),
});

function damaged(file: string, why: string): AscendError {
  return new AscendError('STATE_FILE_INVALID', `the simulator's state file ${file} is damaged: ${why}`);
}

/**
 * The simulator's state. All of it is plain data, so it can be written to `--state-file` after every
 * change and read back on start; a write goes to a temporary file first so a crash never leaves half of it.
 */
export class Store {
  teams = new Map<string, Team>();
  keys = new Map<string, SimKey>();
  private byType = new Map<string, Map<string, Rec>>();
  private seq = 0;

  /** Signs part URLs (simulator/part-signing.ts); persisted with the state. */
  secret: Buffer = randomBytes(32);

  private readonly listeners: (() => void)[] = [];
  private notifying = false;

  constructor(private readonly stateFile?: string) {}

  /**
   * Calls `listener` on every `save()`, which every change of state is followed by (writes, processing by
   * the clock, admin routes): the one place the webhook watcher learns that states may have moved.
   */
  onSave(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The state in `stateFile`, or undefined when there is none yet; a damaged file throws STATE_FILE_INVALID. */
  static load(stateFile: string): Store | undefined {
    if (!existsSync(stateFile)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(stateFile, 'utf8'));
    } catch (err) {
      throw damaged(stateFile, (err as Error).message.split('\n')[0]!);
    }
    const parsed = SnapshotSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw damaged(stateFile, `${issue?.path.join('.') || '/'}: ${issue?.message ?? 'invalid'}`);
    }
    const snap = parsed.data as Snapshot;
    const store = new Store(stateFile);
    if (snap.secret) store.secret = Buffer.from(snap.secret, 'base64');
    for (const t of snap.teams) store.teams.set(t.id, t);
    for (const k of snap.keys) store.keys.set(k.keyId, k);
    for (const r of snap.resources) store.table(r.type).set(r.id, r);
    store.seq = snap.seq;
    return store;
  }

  snapshot(): Snapshot {
    return {
      version: 1,
      teams: [...this.teams.values()],
      keys: [...this.keys.values()],
      resources: [...this.byType.values()].flatMap((m) => [...m.values()]),
      seq: this.seq,
      secret: this.secret.toString('base64'),
    };
  }

  /**
   * Tells the listeners, then writes the state atomically (a temporary file renamed over the old one) and owner-only: it holds the
   * secret that signs part URLs.
   */
  save(): void {
    if (!this.notifying) {
      // A listener may change records (a webhook event records its deliveries); those go in this same write.
      this.notifying = true;
      try {
        for (const l of this.listeners) l();
      } finally {
        this.notifying = false;
      }
    }
    if (!this.stateFile) return;
    const tmp = `${this.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.stateFile);
  }

  private table(type: string): Map<string, Rec> {
    let t = this.byType.get(type);
    if (!t) {
      t = new Map();
      this.byType.set(type, t);
    }
    return t;
  }

  /** A new id: numeric Apple IDs for apps, UUIDs for most resources (as Apple does). */
  newId(type: string): string {
    this.seq++;
    return type === 'apps' ? String(1_000_000_000 + this.seq) : randomUUID();
  }

  /** Records are filed by their `type`, so a record read from a type's table has that type's attributes. */
  get<T extends string>(type: T, id: string): Rec<T> | undefined {
    return this.byType.get(type)?.get(id) as Rec<T> | undefined;
  }

  list<T extends string>(type: T): Rec<T>[] {
    return [...(this.byType.get(type)?.values() ?? [])] as Rec<T>[];
  }

  insert<T extends string>(rec: Omit<Rec<T>, 'id'> & { id?: string }): Rec<T> {
    const full = { ...rec, id: rec.id ?? this.newId(rec.type) } as Rec<T>;
    this.table(full.type).set(full.id, full as Rec);
    return full;
  }

  remove(type: string, id: string): boolean {
    return this.byType.get(type)?.delete(id) ?? false;
  }

  /** Every record of `type` whose relationships point at `id`. */
  referencing(type: string, id: string): Rec[] {
    return this.list(type).filter((r) =>
      Object.values(r.rels).some((v) => v === id || (Array.isArray(v) && v.includes(id))),
    );
  }
}
