export type PlistValue = string | number | boolean | Date | Uint8Array | PlistValue[] | { [k: string]: PlistValue };
export type PlistDict = { [k: string]: PlistValue };

/**
 * Bounds on what one property list may expand to, checked while it is read (not after): values created,
 * bytes of strings and data, and nesting depth. A real Info.plist holds a few hundred values and a
 * provisioning profile a few thousand, so the defaults leave room for two orders of magnitude more.
 */
export interface PlistLimits {
  maxNodes: number;
  maxExpandedBytes: number;
  maxDepth: number;
}

export const DEFAULT_PLIST_LIMITS: PlistLimits = Object.freeze({
  maxNodes: 200_000,
  maxExpandedBytes: 16 * 1024 * 1024,
  maxDepth: 64,
});

/** A plist that is well-formed so far but asks for more than the limits allow. */
export class PlistLimitError extends Error {}
