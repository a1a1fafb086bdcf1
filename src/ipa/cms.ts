import { createHash, verify, X509Certificate } from 'node:crypto';

/**
 * Just enough of CMS (RFC 5652) SignedData to read a provisioning profile and check its signature: a BER
 * reader (definite and indefinite lengths, constructed OCTET STRINGs) and signature verification with
 * node:crypto. A general ASN.1 library would cost more start-up time than `ascend ipa inspect` is allowed.
 */

interface Tlv {
  tag: number;
  /** Offset of the tag byte (the element's first byte). */
  at: number;
  constructed: boolean;
  /** Offset of the first content byte. */
  start: number;
  /** Offset just past the content (before an end-of-contents marker, for indefinite lengths). */
  end: number;
  /** Offset just past the whole element. */
  next: number;
}

export class CmsError extends Error {}

/** Apple's profiles nest about a dozen levels; a hostile one could nest until the stack overflows. */
const MAX_NESTING = 64;

function readTlv(b: Uint8Array, at: number, limit: number, depth = 0): Tlv {
  if (depth > MAX_NESTING) throw new CmsError(`nests deeper than ${MAX_NESTING} levels`);
  if (at + 2 > limit) throw new CmsError('truncated element');
  const first = b[at]!;
  if ((first & 0x1f) === 0x1f) throw new CmsError('multi-byte tags are not used by CMS');
  const constructed = (first & 0x20) !== 0;
  let p = at + 1;
  const lenByte = b[p++]!;
  if (lenByte === 0x80) {
    if (!constructed) throw new CmsError('indefinite length on a primitive element');
    let q = p;
    for (;;) {
      if (q + 2 > limit) throw new CmsError('missing end-of-contents');
      if (b[q] === 0 && b[q + 1] === 0) return { tag: first, at, constructed, start: p, end: q, next: q + 2 };
      q = readTlv(b, q, limit, depth + 1).next;
    }
  }
  let len = lenByte;
  if (lenByte & 0x80) {
    const n = lenByte & 0x7f;
    if (n > 4 || p + n > limit) throw new CmsError('invalid length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
  }
  if (p + len > limit) throw new CmsError('element runs past its container');
  return { tag: first, at, constructed, start: p, end: p + len, next: p + len };
}

function children(b: Uint8Array, node: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = node.start; p < node.end; ) {
    const c = readTlv(b, p, node.end);
    out.push(c);
    p = c.next;
  }
  return out;
}

function oid(b: Uint8Array, node: Tlv): string {
  if (node.tag !== 0x06) throw new CmsError('expected an OBJECT IDENTIFIER');
  const bytes = b.subarray(node.start, node.end);
  const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
  let v = 0;
  for (const x of bytes.subarray(1)) {
    v = v * 128 + (x & 0x7f);
    if (!(x & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** An OCTET STRING's bytes; a constructed one (BER streaming) is the concatenation of its pieces. */
function octets(b: Uint8Array, node: Tlv, depth = 0): Buffer {
  if (!node.constructed) return Buffer.from(b.subarray(node.start, node.end));
  if (depth > MAX_NESTING) throw new CmsError(`nests deeper than ${MAX_NESTING} levels`);
  return Buffer.concat(children(b, node).map((c) => octets(b, c, depth + 1)));
}

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const DIGESTS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface SignedContent {
  content: Buffer;
  /** The content digest matches and the signer's signature over the signed attributes verifies. */
  signatureValid: boolean;
  encoding: 'der' | 'ber-indefinite';
  /** The certificate whose key verified the signature, when it verified. */
  signerCert: Buffer | null;
  /** Every certificate the SignedData carries, to build the signer's chain from. */
  certs: Buffer[];
}

/** Parses CMS SignedData, returns the encapsulated content and whether its signature checks out. */
export function readSignedData(der: Uint8Array): SignedContent {
  const top = readTlv(der, 0, der.length);
  if (top.tag !== 0x30) throw new CmsError('not a SEQUENCE');
  const [typeNode, wrapped] = children(der, top);
  if (!typeNode || oid(der, typeNode) !== SIGNED_DATA || !wrapped || wrapped.tag !== 0xa0)
    throw new CmsError('not CMS SignedData');
  const signedData = children(der, wrapped)[0];
  if (signedData?.tag !== 0x30) throw new CmsError('SignedData is not a SEQUENCE');
  const parts = children(der, signedData);
  const encap = parts[2];
  if (encap?.tag !== 0x30) throw new CmsError('no encapsulated content');
  const eWrapped = children(der, encap)[1];
  const eContent = eWrapped && children(der, eWrapped)[0];
  if (!eContent || (eContent.tag & 0x1f) !== 0x04) throw new CmsError('no content in the SignedData');
  const content = octets(der, eContent);
  const certs = parts
    .filter((p) => p.tag === 0xa0)
    .flatMap((p) => children(der, p).map((c) => Buffer.from(der.subarray(c.at, c.next))));
  const signerSet = parts.at(-1);
  const signer = signerSet && signerSet.tag === 0x31 ? children(der, signerSet)[0] : undefined;
  if (certs.length > MAX_CERTS)
    throw new CmsError(`carries ${certs.length} certificates; at most ${MAX_CERTS} are read`);
  const signerCert = signer ? verifySigner(der, signer, content, certs) : null;
  return {
    content,
    signatureValid: signerCert !== null,
    encoding: der[1] === 0x80 ? 'ber-indefinite' : 'der',
    signerCert,
    certs,
  };
}

/** Apple's profiles carry three; a hostile one could carry thousands for the chain builder to try. */
const MAX_CERTS = 16;

/** The certificate that verifies the signer's signature, or null when none does. */
function verifySigner(b: Uint8Array, signer: Tlv, content: Buffer, certs: Buffer[]): Buffer | null {
  const fields = children(b, signer);
  const digestAlg = fields[2] && children(b, fields[2])[0];
  const hash = digestAlg ? DIGESTS[oid(b, digestAlg)] : undefined;
  if (!hash) return null;
  const signedAttrs = fields.find((f) => f.tag === 0xa0);
  const signature = fields.find((f, i) => i > 3 && f.tag === 0x04);
  if (!signature) return null;
  let signedBytes: Buffer = content;
  if (signedAttrs) {
    const md = children(b, signedAttrs)
      .map((attr) => children(b, attr))
      .find(([type]) => type !== undefined && oid(b, type) === MESSAGE_DIGEST);
    const value = md?.[1] && children(b, md[1])[0];
    if (!value || !createHash(hash).update(content).digest().equals(octets(b, value))) return null;
    // The signature covers the attributes re-tagged as a SET (RFC 5652 §5.4).
    signedBytes = Buffer.from(b.subarray(signedAttrs.at, signedAttrs.next));
    signedBytes[0] = 0x31;
  }
  const sig = octets(b, signature);
  return (
    certs.find((der) => {
      try {
        return verify(hash, signedBytes, new X509Certificate(der).publicKey, sig);
      } catch {
        return false;
      }
    }) ?? null
  );
}
