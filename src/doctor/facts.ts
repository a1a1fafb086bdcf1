/** The plain data the checks read; `gather.ts` fills it from App Store Connect, tests write it by hand. */

export interface KeyFacts {
  keyId: string;
  kind: 'team' | 'individual';
  /** `rejected`: Apple answered 401; `agreement`: every request answered the agreement 403. */
  status: 'accepted' | 'rejected' | 'agreement';
  /** Inferred from read-only probes (Apple does not expose a key's role); undefined when not probed. */
  role?: string;
  canManageUsers?: boolean;
  canProvision?: boolean;
}

export interface CertificateFacts {
  id: string;
  name: string;
  certificateType: string;
  serialNumber: string;
  expirationDate: string | null;
  /** Whether this machine holds the certificate's private key (`$ASCEND_HOME/signing`). */
  keyHeld: boolean;
}

export interface ProfileFacts {
  id: string;
  name: string;
  profileType: string;
  profileState: string;
  expirationDate: string | null;
}

export interface BuildFacts {
  id: string;
  app: string;
  /** CFBundleShortVersionString (the train) and CFBundleVersion (the build number). */
  version: string;
  buildNumber: string;
  uploadedDate: string | null;
  expirationDate: string | null;
  expired: boolean;
  groups: { id: string; name: string }[];
}

export interface VersionFacts {
  id: string;
  app: string;
  versionString: string;
  platform: string;
  state: string;
  createdDate: string | null;
}

export interface DoctorFacts {
  /** "Now" as App Store Connect sees it (its `Date` header), else the local clock. */
  now: number;
  key: KeyFacts;
  /** Undefined when not readable with this key (individual key, role) or when the key is refused. */
  certificates?: CertificateFacts[];
  profiles?: ProfileFacts[];
  builds: BuildFacts[];
  versions: VersionFacts[];
  /** Apps checked (bundle IDs), for the summary. */
  apps: string[];
}
