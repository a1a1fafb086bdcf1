import { AscendError } from '../core/errors.js';

/** One upload operation as Apple hands it out (DeliveryFileUploadOperation), checked and normalised. */
export interface PartPlan {
  index: number;
  partNumber: number;
  method: string;
  url: string;
  offset: number;
  length: number;
  headers: Record<string, string>;
  expiresAt: number | undefined;
}

interface RawOperation {
  method?: string;
  url?: string;
  offset?: number;
  length?: number;
  partNumber?: number;
  expiration?: string;
  requestHeaders?: { name?: string; value?: string }[];
}

/**
 * Apple's upload operations must tile the file exactly: sorted by offset, no gap, no overlap, summing to
 * the file's size. Anything else would upload a file Apple then rejects, so it is refused up front.
 */
export function planParts(operations: RawOperation[] | undefined, fileSize: number): PartPlan[] {
  if (!operations?.length)
    throw new AscendError('UPLOAD_OPERATIONS_INVALID', 'App Store Connect returned no upload operations');
  const parts = operations
    .map((op, i) => {
      if (!op.url || !op.method || typeof op.offset !== 'number' || typeof op.length !== 'number' || op.length < 1) {
        throw new AscendError(
          'UPLOAD_OPERATIONS_INVALID',
          `upload operation ${i + 1} lacks a method, URL, offset or length`,
        );
      }
      const headers: Record<string, string> = {};
      for (const h of op.requestHeaders ?? [])
        if (h.name && h.value !== undefined) headers[h.name.toLowerCase()] = h.value;
      return {
        index: 0,
        partNumber: op.partNumber ?? i + 1,
        method: op.method.toUpperCase(),
        url: op.url,
        offset: op.offset,
        length: op.length,
        headers,
        expiresAt: op.expiration ? Date.parse(op.expiration) : undefined,
      };
    })
    .sort((a, b) => a.offset - b.offset);
  let next = 0;
  parts.forEach((p, i) => {
    p.index = i;
    if (p.offset !== next) {
      throw new AscendError(
        'UPLOAD_OPERATIONS_INVALID',
        p.offset > next
          ? `the upload operations leave bytes ${next}–${p.offset - 1} of the file uncovered`
          : `upload operations overlap at byte ${p.offset}`,
      );
    }
    next = p.offset + p.length;
  });
  if (next !== fileSize)
    throw new AscendError(
      'UPLOAD_OPERATIONS_INVALID',
      `the upload operations cover ${next} bytes but the file has ${fileSize}`,
    );
  return parts;
}
