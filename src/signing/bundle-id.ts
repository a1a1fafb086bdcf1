import { writeOnce } from '../asc/http/reconcile.js';
import { type BundleId, createBundleId, findBundleIds } from '../asc/resources/bundle-ids.js';
import { AscendError } from '../core/errors.js';
import type { SigningContext } from './types.js';

// Reverse-DNS: letters, digits, hyphens, periods; at least two parts.
const EXPLICIT = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** Refuses what cannot carry an App Store profile before anything is sent. */
export function validateBundleIdentifier(id: string): string {
  if (id.includes('*'))
    throw new AscendError(
      'SIGNING_BUNDLE_ID_INVALID',
      `"${id}" is a wildcard bundle ID; App Store signing needs the app's exact one`,
    );
  if (!EXPLICIT.test(id) || id.length > 155)
    throw new AscendError(
      'SIGNING_BUNDLE_ID_INVALID',
      `"${id}" is not a bundle ID (reverse-DNS letters, digits, "-" and ".")`,
    );
  return id;
}

/** The portal allows only letters, digits and spaces in an App ID's name. */
export function bundleIdNameFor(identifier: string): string {
  return `ascend ${identifier.replace(/[^A-Za-z0-9]+/g, ' ')}`.trim().slice(0, 255);
}

/**
 * The explicit bundle ID registered for iOS (or universal), registered if missing.
 * https://developer.apple.com/documentation/appstoreconnectapi/bundle-ids
 */
export async function ensureBundleId(ctx: SigningContext): Promise<{ bundle: BundleId; created: boolean }> {
  const find = async () =>
    (await findBundleIds(ctx.client, ctx.bundleIdentifier)).find(
      (b) => b.attributes?.platform === 'IOS' || b.attributes?.platform === 'UNIVERSAL',
    );
  const existing = await find();
  if (existing) return { bundle: existing, created: false };
  const bundle = await writeOnce(
    () =>
      createBundleId(ctx.client, {
        identifier: ctx.bundleIdentifier,
        name: bundleIdNameFor(ctx.bundleIdentifier),
        platform: 'IOS',
      }),
    find,
  );
  ctx.onWrite(`registered bundle ID ${bundle.id}`);
  return { bundle, created: true };
}
