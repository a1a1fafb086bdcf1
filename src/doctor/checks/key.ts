import type { KeyFacts } from '../facts.js';
import { type Finding, finding } from '../types.js';

const NEW_KEY =
  'Create a key in App Store Connect → Users and Access → Integrations → App Store Connect API (App Manager access), then store it with `ascend keys add --name NAME --key-id ID --issuer-id ID --private-key AuthKey_ID.p8`.';

/** The API key itself: refused by Apple, individual, or without the provisioning role. */
export function checkKey(key: KeyFacts): Finding[] {
  const subject = `API key ${key.keyId} (${key.kind})`;
  if (key.status === 'rejected') {
    return [
      finding('KEY_REJECTED', {
        subject,
        message:
          'App Store Connect refuses this key (401): it was revoked or deleted, or the Issuer ID given with it is not its team’s. Every upload, deploy and signing command fails until it is replaced.',
        fix: NEW_KEY,
      }),
    ];
  }
  if (key.status !== 'accepted') return [];
  if (key.kind === 'individual') {
    return [
      finding('KEY_INDIVIDUAL', {
        subject,
        message:
          'Apple refuses the provisioning API to individual keys, so certificates and profiles were not checked and `ascend signing` cannot make them with this key.',
        fix: `Use a team key for signing and for a complete check. ${NEW_KEY}`,
      }),
    ];
  }
  if (key.canProvision === false) {
    return [
      finding('KEY_CANNOT_PROVISION', {
        subject,
        message: `The key's role (${key.role ?? 'unknown'}) may not read certificates and profiles, so they were not checked and \`ascend signing\` would fail with this key.`,
        fix: `Use a key with the App Manager or Admin role. ${NEW_KEY}`,
      }),
    ];
  }
  return [];
}
