import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Peer tools used only for side-by-side numbers, installed on demand into an ignored folder (never dependencies). */
export const PEERS = { 'eas-cli': '24.8.0', 'appstore-connect-sdk': '2.0.0' } as const;
export const PEER_DIR = join(import.meta.dirname, '.peers');

export function ensurePeers(): boolean {
  if (Object.keys(PEERS).every((p) => existsSync(join(PEER_DIR, 'node_modules', p, 'package.json')))) return true;
  mkdirSync(PEER_DIR, { recursive: true });
  writeFileSync(join(PEER_DIR, 'package.json'), JSON.stringify({ name: 'ascend-bench-peers', private: true }));
  try {
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-save', ...Object.entries(PEERS).map(([n, v]) => `${n}@${v}`)],
      {
        cwd: PEER_DIR,
        stdio: 'ignore',
        timeout: 600_000,
      },
    );
    return true;
  } catch {
    return false;
  }
}
