/** An App Store Connect API key as ascend holds it after validation. */
export interface ApiKey {
  /** 10 upper-case alphanumerics, shown beside the key in App Store Connect. */
  keyId: string;
  /** The team's Issuer ID; absent for an individual key (its token carries `sub: "user"`). */
  issuerId: string | undefined;
  /** PKCS#8 PEM of the EC P-256 private key (SEC1 input is converted). Never printed. */
  privateKeyPem: string;
  /** Enterprise (in-house) keys sign for a different audience. */
  inHouse: boolean;
  /** Where each part came from, for `keys check` and --strict-auth; never holds secret material. */
  sources: { keyId: string; issuerId: string; privateKey: string };
  /** The stored key's name, when the key came from the key store. */
  name?: string;
}

export function isIndividualKey(key: ApiKey): boolean {
  return key.issuerId === undefined;
}

/** What the App Store Connect client needs: a bearer token, and a way to say Apple refused it. */
export interface TokenProvider {
  token(): Promise<string>;
  /** Called once when Apple answers 401 to this token, so the next call mints a fresh one. */
  invalidate(token: string): void;
}
