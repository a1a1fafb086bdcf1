import { randomUUID } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { SimKey } from './auth.js';

/** One stored resource. `rels` may hold links the public schema does not expose (e.g. a build upload's app). */
export interface Rec {
  type: string;
  id: string;
  teamId: string;
  attributes: Record<string, unknown>;
  rels: Record<string, string | string[] | null>;
  /** Simulator-only bookkeeping (timers, received parts); never serialized into responses. */
  internal?: Record<string, unknown>;
}

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

  constructor(private readonly stateFile?: string) {}

  static load(stateFile: string): Store | undefined {
    let snap: Snapshot;
    try {
      snap = JSON.parse(readFileSync(stateFile, 'utf8')) as Snapshot;
    } catch {
      return undefined;
    }
    const store = new Store(stateFile);
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
    };
  }

  save(): void {
    if (!this.stateFile) return;
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()));
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

  get(type: string, id: string): Rec | undefined {
    return this.byType.get(type)?.get(id);
  }

  list(type: string): Rec[] {
    return [...(this.byType.get(type)?.values() ?? [])];
  }

  insert(rec: Omit<Rec, 'id'> & { id?: string }): Rec {
    const full: Rec = { ...rec, id: rec.id ?? this.newId(rec.type) };
    this.table(full.type).set(full.id, full);
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
