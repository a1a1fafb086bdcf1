import { createHash, X509Certificate } from 'node:crypto';
import { AscendError } from '../core/errors.js';

/**
 * Which certificates a provisioning profile's signature must chain to. Apple signs profiles with
 * "Apple iPhone OS Provisioning Profile Signing" (iOS, tvOS, visionOS) or "Mac OS X Provisioning Profile
 * Signing" (macOS), under Apple Root CA; G2 and G3 are Apple's newer roots. Each root is pinned by the
 * SHA-256 of its DER, as published at https://www.apple.com/certificateauthority/ and checked against the
 * Apple Root CA carried by real Apple-signed profiles (shared/fixtures/third-party/mobileprovision).
 */
export const APPLE_ROOT_SHA256: Readonly<Record<string, string>> = Object.freeze({
  'Apple Root CA': 'b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024',
  'Apple Root CA - G2': 'c2b9b042dd57830e7d117dac55ac8ae19407d38e41d88f3215bc3a890444a050',
  'Apple Root CA - G3': '63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179',
});

/**
 * Apple Root CA itself (public; https://www.apple.com/appleca/AppleIncRootCertificate.cer). Older profiles
 * carry the legacy "Apple Root Certificate Authority" instead of the root that issued their intermediate,
 * so the chain can only be completed with this copy. It is trusted only because its SHA-256 matches the pin.
 */
const APPLE_ROOT_CA_DER = Buffer.from(
  'MIIEuzCCA6OgAwIBAgIBAjANBgkqhkiG9w0BAQUFADBiMQswCQYDVQQGEwJVUzETMBEGA1UEChMKQXBwbGUgSW5jLjEmMCQG' +
    'A1UECxMdQXBwbGUgQ2VydGlmaWNhdGlvbiBBdXRob3JpdHkxFjAUBgNVBAMTDUFwcGxlIFJvb3QgQ0EwHhcNMDYwNDI1MjE0' +
    'MDM2WhcNMzUwMjA5MjE0MDM2WjBiMQswCQYDVQQGEwJVUzETMBEGA1UEChMKQXBwbGUgSW5jLjEmMCQGA1UECxMdQXBwbGUg' +
    'Q2VydGlmaWNhdGlvbiBBdXRob3JpdHkxFjAUBgNVBAMTDUFwcGxlIFJvb3QgQ0EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw' +
    'ggEKAoIBAQDkkakJH5HbHkdQ6wXtXnmELes2oldMVeyLGYne+Uts9QerIjAC6Bg++FAJ039BqJj50cpmnCRrEdCju+QbKsMf' +
    'lZ56DKRHi1vUFjczy8QPTc4UadHJGXL1XQ7Vf1+b8iUDulWPTV0N8WQ1IxVLFVkds5T39pyez1C6wVhQZ48ItCD3y6wsIG9w' +
    'tj8BMIy3Q88PnT3zK0koGsj+zrW5DtleHNbLPbU6rfQPDgCSC7EhFi501TwN22IWq6NxkkdTVcGvL0Gz+PvjcM3mo0xFfh9M' +
    'a1CWQYnEdGILEINBhzOKgbEwWOxaBDKMaLOPHd5lc/9nXmW8Sdh2nzMUZaF3lMktAgMBAAGjggF6MIIBdjAOBgNVHQ8BAf8E' +
    'BAMCAQYwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUK9BpR5R2Cf70a40uQKb3R01/CF4wHwYDVR0jBBgwFoAUK9BpR5R2' +
    'Cf70a40uQKb3R01/CF4wggERBgNVHSAEggEIMIIBBDCCAQAGCSqGSIb3Y2QFATCB8jAqBggrBgEFBQcCARYeaHR0cHM6Ly93' +
    'd3cuYXBwbGUuY29tL2FwcGxlY2EvMIHDBggrBgEFBQcCAjCBthqBs1JlbGlhbmNlIG9uIHRoaXMgY2VydGlmaWNhdGUgYnkg' +
    'YW55IHBhcnR5IGFzc3VtZXMgYWNjZXB0YW5jZSBvZiB0aGUgdGhlbiBhcHBsaWNhYmxlIHN0YW5kYXJkIHRlcm1zIGFuZCBj' +
    'b25kaXRpb25zIG9mIHVzZSwgY2VydGlmaWNhdGUgcG9saWN5IGFuZCBjZXJ0aWZpY2F0aW9uIHByYWN0aWNlIHN0YXRlbWVu' +
    'dHMuMA0GCSqGSIb3DQEBBQUAA4IBAQBcNplMLXi37Yyb3PN3m/J20ncwT8EfhYOFG5k9RzfyqZtAjizUsZAS2L70c5vu0mQP' +
    'y3lPNNiiPvl4/2vIB+x9OYOLUyDTOMSxv5pPCmv/K/xZpwUJfBdAVhEedNO3iyM7R6PVbyTi69G3cN8PReEnyvFteO3ntRcX' +
    'qNx+IjXKJdXZD9Zr1KIkIxH3oayPc4FgxhtbCS+SsvhESPBgOJ4V9T0mZyCKM2r3DYLP3uujL/lTaltkwGMzd/c6ByxW69oP' +
    'IQ7aunMZT7XZNn/Bh1XZp5m5MkL72NVxnn6hUrcbvZNCJBIqxw8dtk2cXmPIS4AXUKqK1drk/NAJBzewdXUh',
  'base64',
);

/** Trust anchors for profile signatures: SHA-256 fingerprints, and certificates to complete chains with. */
export interface TrustAnchors {
  readonly sha256: ReadonlySet<string>;
  readonly certs: readonly Buffer[];
}

/** "AB:CD:…" or "abcd…" as 64 lower-case hex digits, or null when it is not a SHA-256 fingerprint. */
export function normaliseFingerprint(s: string): string | null {
  const hex = s.trim().replaceAll(':', '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/** Apple's roots, plus any extra fingerprints asked for explicitly (the sample builder's root, in tests). */
export function trustAnchors(extraSha256: readonly string[] = []): TrustAnchors {
  const extra = extraSha256.map((f) => {
    const n = normaliseFingerprint(f);
    if (!n)
      throw new AscendError('USAGE', `extra trusted root "${f.slice(0, 80)}" is not a SHA-256 fingerprint`, {
        remedy: 'Give each extra trusted root as the 64 hex digits of its certificate’s SHA-256 fingerprint.',
      });
    return n;
  });
  return { sha256: new Set([...Object.values(APPLE_ROOT_SHA256), ...extra]), certs: [APPLE_ROOT_CA_DER] };
}

export const APPLE_ANCHORS: TrustAnchors = trustAnchors();

export interface ChainResult {
  trusted: boolean;
  /** The signing certificate's subject common name. */
  signer: string | null;
  /** Why the chain is not trusted, when it is not. */
  problem: string | null;
}

const sha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');
const commonName = (c: X509Certificate): string | null => /(?:^|\n)CN=([^\n]*)/.exec(c.subject)?.[1] ?? null;

/** At most this many links: Apple's chains have three (signer, intermediate, root). */
const MAX_CHAIN = 6;

/**
 * Walks from the signer's certificate up through issuers found among the profile's certificates and the
 * anchors' own, verifying each link's signature (X509Certificate.checkIssued and verify), until a
 * certificate whose SHA-256 is an anchor. Validity dates are not checked: the profile's expiry is.
 */
export function chainToAnchor(signerDer: Buffer, pool: readonly Buffer[], anchors: TrustAnchors): ChainResult {
  const parse = (der: Buffer): X509Certificate | null => {
    try {
      return new X509Certificate(der);
    } catch {
      return null;
    }
  };
  let current = parse(signerDer);
  if (!current) return { trusted: false, signer: null, problem: 'the signing certificate cannot be read' };
  const signer = commonName(current);
  const candidates = [...pool, ...anchors.certs].map(parse).filter((c): c is X509Certificate => c !== null);
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (anchors.sha256.has(sha256(current.raw))) return { trusted: true, signer, problem: null };
    const child: X509Certificate = current;
    const issuer = candidates.find(
      (c) => !c.raw.equals(child.raw) && child.checkIssued(c) && child.verify(c.publicKey),
    );
    if (!issuer)
      return {
        trusted: false,
        signer,
        problem: `its certificate chain ends at "${commonName(child) ?? child.subject}", not at an Apple root`,
      };
    current = issuer;
  }
  return { trusted: false, signer, problem: `its certificate chain is longer than ${MAX_CHAIN} links` };
}
