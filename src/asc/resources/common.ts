import type { components } from '../schema/openapi-types.js';

export type Schemas = components['schemas'];
export type Platform = Schemas['Platform'];

/** Apple ids are opaque strings; apps use numeric Apple IDs. */
export function isAppleNumericId(ref: string): boolean {
  return /^\d+$/.test(ref);
}
