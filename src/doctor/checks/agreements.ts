import type { KeyFacts } from '../facts.js';
import { type Finding, finding } from '../types.js';

/**
 * Apple answers every request of a team with a lapsed agreement with 403
 * `FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED`; the gatherer notes it as the key's status, since nothing
 * else can be read then.
 */
export function checkAgreements(key: KeyFacts): Finding[] {
  if (key.status !== 'agreement') return [];
  return [
    finding('AGREEMENT_MISSING', {
      subject: `agreements of the team of API key ${key.keyId}`,
      message:
        'A required agreement is missing or has expired: App Store Connect answers every request with 403 FORBIDDEN.REQUIRED_AGREEMENTS_MISSING_OR_EXPIRED, so no build can be uploaded, distributed or submitted, and nothing else could be checked.',
      fix: 'The Account Holder signs in to App Store Connect → Business (Agreements, Tax, and Banking) and accepts the pending agreement; then run `ascend doctor` again.',
    }),
  ];
}
