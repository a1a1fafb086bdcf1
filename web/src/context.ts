import { createContext, useContext } from 'react';
import type { SandboxInfo, SessionInfo } from '../../src/server/api/types.js';
import type { Api } from './api.js';

export interface Signed {
  api: Api;
  session: SessionInfo;
  /** The role in the team shown. */
  role: SessionInfo['teams'][number]['role'];
  sandbox: SandboxInfo | null;
  team: string | null;
}

export const SignedContext = createContext<Signed | null>(null);

export function useSigned(): Signed {
  const s = useContext(SignedContext);
  if (!s) throw new Error('useSigned outside a signed-in page');
  return s;
}
