import type { SimKey } from './auth.js';
import { forbiddenRole } from './errors.js';

/**
 * Which roles may call which operations. Apple documents roles for people, not precisely for keys, so the
 * table is data: a seed may replace it (docs/SIMULATOR.md). The default follows the community reports
 * collected in docs/API_NOTES.md: Developer keys may upload but not edit TestFlight or App Store data;
 * user management is Admin-only; provisioning is Admin or App Manager, and never individual keys.
 */
export interface RoleRule {
  /** Matched against "METHOD /path/template". */
  pattern: string;
  roles: string[];
  teamKeysOnly?: boolean;
}

const READERS = ['ADMIN', 'ACCOUNT_HOLDER', 'APP_MANAGER', 'DEVELOPER', 'MARKETING', 'CUSTOMER_SUPPORT'];
const MANAGERS = ['ADMIN', 'ACCOUNT_HOLDER', 'APP_MANAGER'];

export const DEFAULT_ROLE_RULES: RoleRule[] = [
  { pattern: '^GET /v1/apps(/\\{id\\})?$', roles: [...READERS, 'FINANCE', 'SALES', 'ACCESS_TO_REPORTS'] },
  { pattern: '^[A-Z]+ /v1/users', roles: ['ADMIN', 'ACCOUNT_HOLDER'] },
  {
    pattern: '^[A-Z]+ /v1/(bundleIds|bundleIdCapabilities|certificates|profiles|devices)',
    roles: MANAGERS,
    teamKeysOnly: true,
  },
  // App Store Connect Help, "Manage webhooks": required role Account Holder, Admin or App Manager (reads too).
  { pattern: '^[A-Z]+ /v1/(webhooks|webhookPings|webhookDeliveries)|^GET /v1/apps/\\{id\\}/webhooks', roles: MANAGERS },
  { pattern: '^GET ', roles: READERS },
  { pattern: '^[A-Z]+ /v1/(buildUploads|buildUploadFiles)', roles: [...MANAGERS, 'DEVELOPER'] },
  { pattern: '.', roles: MANAGERS },
];

export function checkRole(rules: RoleRule[], key: SimKey, opKey: string): void {
  const rule = rules.find((r) => new RegExp(r.pattern).test(opKey));
  if (!rule) throw forbiddenRole();
  if (rule.teamKeysOnly && key.issuerId === undefined) throw forbiddenRole();
  if (!rule.roles.includes(key.role)) throw forbiddenRole();
}
