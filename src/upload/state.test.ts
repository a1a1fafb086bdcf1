import { describe, expect, it } from 'vitest';
import { parseSavedUpload, savedOperations } from './state.js';

const file = { name: 'app.ipa', size: 10, mtimeMs: 1 };

describe('parseSavedUpload', () => {
  it('accepts what the upload step writes', () => {
    const saved = { uploadId: 'U1', fileId: 'F1', expiresAt: 5, partsDone: [1, 2], file };
    expect(parseSavedUpload(saved)).toEqual({ kind: 'ok', saved });
    expect(parseSavedUpload({ creatingSince: 9, file })).toEqual({ kind: 'ok', saved: { creatingSince: 9, file } });
    expect(parseSavedUpload(undefined)).toEqual({ kind: 'none' });
  });

  it('calls anything else damaged, with the reason', () => {
    expect(parseSavedUpload({})).toMatchObject({ kind: 'damaged', why: expect.stringContaining('file') });
    expect(parseSavedUpload('unreadable')).toMatchObject({ kind: 'damaged' });
    expect(parseSavedUpload([1])).toMatchObject({ kind: 'damaged' });
    expect(parseSavedUpload({ file })).toMatchObject({ kind: 'damaged', why: 'it names no upload' });
    expect(parseSavedUpload({ uploadId: 7, file })).toMatchObject({ kind: 'damaged' });
    expect(parseSavedUpload({ uploadId: 'U1', partsDone: [0, 'x'], file })).toMatchObject({
      kind: 'damaged',
      why: expect.stringContaining('partsDone'),
    });
    expect(parseSavedUpload({ uploadId: 'U1', committed: 'yes', file })).toMatchObject({ kind: 'damaged' });
    expect(parseSavedUpload({ uploadId: 'U1', file: { ...file, size: -1 } })).toMatchObject({ kind: 'damaged' });
  });

  it('saved operations are used only when they are a list of objects', () => {
    expect(savedOperations([{ url: 'x' }])).toEqual([{ url: 'x' }]);
    expect(savedOperations([])).toBeUndefined();
    expect(savedOperations({})).toBeUndefined();
    expect(savedOperations(['x'])).toBeUndefined();
  });
});
