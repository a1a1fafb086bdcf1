/**
 * The one catalogue of ascend's error codes. Every error a user can see carries one of these codes, a
 * one-line message naming the problem and a remedy naming the fix. Codes are stable: once released a
 * code is never reused for something else. docs/ERRORS.md is kept in step with this table by a test.
 */

export const EXIT = {
  ok: 0,
  bug: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  conflict: 5,
  validation: 6,
  rejected: 7,
  deadline: 8,
  network: 9,
  rateLimit: 10,
  /** `ascend doctor` found something broken or expired (a finding of severity error). */
  doctor: 11,
  /** Ctrl-C (SIGINT) or SIGTERM: 128 + SIGINT, as shells report it; the state is saved. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CatalogueEntry {
  exit: ExitCode;
  remedy: string;
}

export const CATALOGUE = {
  USAGE: { exit: EXIT.usage, remedy: 'Check the command with `ascend <command> --help`.' },
  CREDENTIALS_MISSING: {
    exit: EXIT.validation,
    remedy:
      'Give a key with --key-id, --issuer-id and --private-key, a stored key (`ascend keys add`), or ASC_KEY_ID/ASC_ISSUER_ID/ASC_PRIVATE_KEY_PATH.',
  },
  CREDENTIALS_MIXED: {
    exit: EXIT.validation,
    remedy: 'With --strict-auth, give the Key ID, Issuer ID and private key from one source only.',
  },
  KEY_EMPTY: {
    exit: EXIT.validation,
    remedy: 'Point to the AuthKey_<KEYID>.p8 file downloaded from App Store Connect.',
  },
  KEY_NOT_PEM: {
    exit: EXIT.validation,
    remedy: 'Use the .p8 file as downloaded: it starts with "-----BEGIN PRIVATE KEY-----".',
  },
  KEY_TRUNCATED: {
    exit: EXIT.validation,
    remedy: 'The key text is cut short or damaged; copy the whole .p8 file again, from BEGIN to END.',
  },
  KEY_ENCRYPTED: {
    exit: EXIT.validation,
    remedy: 'App Store Connect keys are not encrypted; use the original .p8 file, not a re-encrypted copy.',
  },
  KEY_IS_CERTIFICATE: {
    exit: EXIT.validation,
    remedy: 'This is a certificate, not an API key; use the AuthKey_<KEYID>.p8 private key from App Store Connect.',
  },
  KEY_IS_PUBLIC: {
    exit: EXIT.validation,
    remedy: 'This is a public key; use the AuthKey_<KEYID>.p8 private key downloaded from App Store Connect.',
  },
  KEY_WRONG_TYPE: {
    exit: EXIT.validation,
    remedy:
      'App Store Connect API keys are EC P-256 (ES256) keys; use the .p8 file from Users and Access → Integrations.',
  },
  KEY_WRONG_CURVE: {
    exit: EXIT.validation,
    remedy: 'App Store Connect API keys use the P-256 curve; use the .p8 file from Users and Access → Integrations.',
  },
  KEY_ID_INVALID: {
    exit: EXIT.validation,
    remedy: 'The Key ID is the 10-character code (A–Z, 0–9) shown next to the key in App Store Connect.',
  },
  ISSUER_ID_INVALID: {
    exit: EXIT.validation,
    remedy: 'The Issuer ID is the UUID-shaped value shown above the key list in App Store Connect.',
  },
  KEY_FILE_NOT_FOUND: { exit: EXIT.validation, remedy: 'Check the path to the .p8 or key JSON file.' },
  KEY_FILE_PERMISSIONS: {
    exit: EXIT.validation,
    remedy: 'Make the key file readable by you only, e.g. `chmod 600 <file>`.',
  },
  KEY_JSON_INVALID: {
    exit: EXIT.validation,
    remedy:
      'Use fastlane\'s API-key JSON format: {"key_id": "...", "issuer_id": "...", "key": "-----BEGIN PRIVATE KEY-----..."}.',
  },
  KEY_NAME_INVALID: {
    exit: EXIT.usage,
    remedy: 'Key names use letters, digits, dot, dash and underscore (1–64 characters).',
  },
  KEY_NOT_STORED: {
    exit: EXIT.notFound,
    remedy: 'List stored keys with `ascend keys list`; add one with `ascend keys add`.',
  },
  KEY_EXISTS: {
    exit: EXIT.conflict,
    remedy: 'Remove the stored key first (`ascend keys remove NAME`) or pick another name.',
  },
  ASC_UNAUTHORIZED: {
    exit: EXIT.auth,
    remedy:
      "Apple refused the token: check the Key ID, Issuer ID and .p8 belong together, that the key is not revoked, and that this machine's clock is right.",
  },
  ASC_FORBIDDEN: {
    exit: EXIT.auth,
    remedy:
      'The key may be revoked, or this request is not allowed for it; check the key in Users and Access → Integrations.',
  },
  ASC_FORBIDDEN_ROLE: {
    exit: EXIT.auth,
    remedy: "The key's role is too weak for this; create a key with the App Manager (or Admin) role.",
  },
  ASC_AGREEMENT_MISSING: {
    exit: EXIT.auth,
    remedy: 'The Account Holder must accept the latest agreements in App Store Connect → Business.',
  },
  ASC_NOT_FOUND: {
    exit: EXIT.notFound,
    remedy: 'Check the id; list what exists with the matching `ascend ... list` command.',
  },
  ASC_CONFLICT: {
    exit: EXIT.conflict,
    remedy: "The change conflicts with the current state in App Store Connect; see Apple's detail.",
  },
  ASC_REQUEST_INVALID: {
    exit: EXIT.bug,
    remedy: 'Apple rejected a request ascend built; please report it with the output of --verbose.',
  },
  ASC_RATE_LIMITED: {
    exit: EXIT.rateLimit,
    remedy: "The key's hourly request quota is spent; wait and retry, or spread work across keys.",
  },
  ASC_SERVER_ERROR: {
    exit: EXIT.network,
    remedy: 'App Store Connect is failing; retry later (see https://developer.apple.com/system-status/).',
  },
  NETWORK_ERROR: { exit: EXIT.network, remedy: 'Check the network connection and --api-url, then retry.' },
  PAGINATION_LOOP: { exit: EXIT.network, remedy: 'Apple returned the same page twice; retry later.' },
  DEADLINE_EXCEEDED: {
    exit: EXIT.deadline,
    remedy: 'Raise --timeout, or check the state later with `ascend builds list`.',
  },
  APP_NOT_FOUND: {
    exit: EXIT.notFound,
    remedy: 'Create the app record in App Store Connect → Apps → "+" (the API cannot create apps), then retry.',
  },
  VERSION_INVALID: { exit: EXIT.usage, remedy: 'Versions are one to three period-separated integers, e.g. 1.4.0.' },
  STATE_FILE_INVALID: { exit: EXIT.validation, remedy: 'Remove or fix the damaged state file named in the message.' },
  SIMULATOR_SEED_INVALID: { exit: EXIT.validation, remedy: 'Fix the seed file; its format is in docs/SIMULATOR.md.' },
  FILE_NOT_FOUND: { exit: EXIT.validation, remedy: 'Check the path to the .ipa or .pkg file.' },
  FILE_IS_DIRECTORY: {
    exit: EXIT.validation,
    remedy: 'Give the path of the .ipa file itself (Xcode → Organizer → Distribute App exports one), not a folder.',
  },
  IPA_NOT_ZIP: {
    exit: EXIT.validation,
    remedy: "An .ipa is a zip archive made by Xcode's export (Product → Archive → Distribute App); export it again.",
  },
  IPA_NO_APP: {
    exit: EXIT.validation,
    remedy: 'An .ipa holds exactly one Payload/<Name>.app folder; export the archive again for App Store Connect.',
  },
  IPA_UNSAFE_PATH: {
    exit: EXIT.validation,
    remedy: 'The archive holds a path outside its own folder (".." or absolute); do not use it, export the app again.',
  },
  IPA_ENTRY_TOO_LARGE: {
    exit: EXIT.validation,
    remedy: 'A metadata file in the archive is far larger than any real one (a zip bomb?); export the app again.',
  },
  IPA_CORRUPT: {
    exit: EXIT.validation,
    remedy: 'The archive is damaged (sizes or data do not match); copy or export it again.',
  },
  IPA_TOO_MANY_ENTRIES: {
    exit: EXIT.validation,
    remedy: 'No real app holds that many files (ascend reads at most 200,000 entries); export the app again.',
  },
  IPA_DUPLICATE_ENTRY: {
    exit: EXIT.validation,
    remedy: 'The archive holds the same path twice, which Apple refuses; export the app again with Xcode.',
  },
  IPA_OVERLAPPING_ENTRIES: {
    exit: EXIT.validation,
    remedy: 'Entries of the archive share bytes (a zip bomb or a damaged file); do not use it, export the app again.',
  },
  IPA_NAME_MISMATCH: {
    exit: EXIT.validation,
    remedy: "An entry's local name differs from its directory name (a tampered archive); export the app again.",
  },
  PLIST_INVALID: {
    exit: EXIT.validation,
    remedy: 'The property list is damaged; rebuild the app so Xcode writes it again.',
  },
  PROFILE_INVALID: {
    exit: EXIT.validation,
    remedy: 'Download the provisioning profile again from the developer portal (or let ascend manage signing).',
  },
  PREFLIGHT_FAILED: {
    exit: EXIT.validation,
    remedy: 'Fix each error listed above (each names its fix), rebuild, and run again.',
  },
  BUILD_NUMBER_USED: {
    exit: EXIT.conflict,
    remedy:
      'Raise CFBundleVersion (CURRENT_PROJECT_VERSION) above the highest in use: `ascend builds next-number --app … --version …`.',
  },
  VERSION_TRAIN_CLOSED: {
    exit: EXIT.conflict,
    remedy:
      'Raise CFBundleShortVersionString (MARKETING_VERSION) above the approved or live version, rebuild and upload.',
  },
  UPLOAD_REJECTED: {
    exit: EXIT.rejected,
    remedy:
      'Apple rejected the build while processing it; fix what its error names, raise the build number and upload again.',
  },
  UPLOAD_PART_FAILED: {
    exit: EXIT.network,
    remedy: 'A part could not be sent after several tries; check the network and run the same command again to resume.',
  },
  UPLOAD_OPERATIONS_INVALID: {
    exit: EXIT.network,
    remedy: 'App Store Connect answered with upload operations that do not cover the file; run the command again.',
  },
  UPLOAD_EXPIRED: {
    exit: EXIT.conflict,
    remedy: 'The reserved upload expired; run the same command again to start a fresh upload.',
  },
  ENCRYPTION_UNANSWERED: {
    exit: EXIT.validation,
    remedy:
      'Say whether the app uses non-exempt encryption: add ITSAppUsesNonExemptEncryption to Info.plist, or pass --encryption exempt|non-exempt.',
  },
  GROUP_NOT_FOUND: {
    exit: EXIT.notFound,
    remedy: 'Use one of the beta groups listed, or create the group in App Store Connect → TestFlight.',
  },
  REVIEW_IN_PROGRESS: {
    exit: EXIT.conflict,
    remedy:
      'Wait for the review in progress to finish, or cancel it in App Store Connect, then run the same command again.',
  },
  DATABASE_URL_INVALID: {
    exit: EXIT.usage,
    remedy: 'Use postgres://USER@HOST/DB for PostgreSQL, or leave --database-url out to use SQLite under --data.',
  },
  DATABASE_UNREACHABLE: {
    exit: EXIT.network,
    remedy:
      'Check that the database server is running and that --database-url names the right host, port and database.',
  },
  DATABASE_SCHEMA_NEWER: {
    exit: EXIT.conflict,
    remedy: 'A newer ascend has upgraded this database; run that version (or newer), never an older one, against it.',
  },
  DATABASE_MIGRATION_FAILED: {
    exit: EXIT.bug,
    remedy: 'The database was left as it was before the upgrade; please report this with the output of --verbose.',
  },
  MASTER_KEY_INVALID: {
    exit: EXIT.validation,
    remedy:
      'ASCEND_MASTER_KEY (or <data>/master.key) must hold 32 random bytes in base64, e.g. `openssl rand -base64 32`.',
  },
  MASTER_KEY_PERMISSIONS: {
    exit: EXIT.validation,
    remedy: 'Make the master key file readable by its owner only: `chmod 600 <data>/master.key`.',
  },
  VAULT_KEY_UNKNOWN: {
    exit: EXIT.validation,
    remedy:
      'Start the server with the master key that sealed this secret (ASCEND_MASTER_KEY or <data>/master.key), or finish the rotation with both keys.',
  },
  VAULT_SECRET_DAMAGED: {
    exit: EXIT.conflict,
    remedy:
      'The stored secret failed its integrity check (altered, or copied from another row); store the secret again.',
  },
  AUDIT_DETAIL_SECRET: {
    exit: EXIT.bug,
    remedy: 'An audit entry would have held a secret and was refused; please report this with the output of --verbose.',
  },
  RESOURCE_NOT_FOUND: { exit: EXIT.notFound, remedy: 'Check the id; list what exists in this team first.' },
  RESOURCE_EXISTS: { exit: EXIT.conflict, remedy: 'Pick another name, or change the existing one.' },
  SIGN_IN_FAILED: {
    exit: EXIT.auth,
    remedy: 'Check the e-mail address and password; after several failures wait 15 minutes before trying again.',
  },
  SIGN_IN_THROTTLED: {
    exit: EXIT.rateLimit,
    remedy: 'Too many failed sign-ins for this account or address; wait until the time named, then try again.',
  },
  SESSION_INVALID: { exit: EXIT.auth, remedy: 'Sign in again; the session has expired or was signed out.' },
  API_TOKEN_INVALID: {
    exit: EXIT.auth,
    remedy:
      'Create a new API token in the dashboard (Members and API tokens) and use it as `Authorization: Bearer <token>`.',
  },
  WORKER_TOKEN_INVALID: {
    exit: EXIT.auth,
    remedy:
      'Make a worker token on the server machine (`ascend server worker-token --name NAME`) and pass it as --token; team API tokens do not work for workers.',
  },
  JOB_NOT_LEASED: {
    exit: EXIT.conflict,
    remedy:
      'The job is no longer held by this worker (its lease passed to another, or it ended); the worker drops it and takes the next.',
  },
  WORKER_SERVER_UNAVAILABLE: {
    exit: EXIT.network,
    remedy:
      'The worker could not get a job’s credentials from the server (it is down or restarting, or refused this worker’s token); the job goes back to the queue with its state saved and runs when the server answers again.',
  },
  WORKER_LOST: {
    exit: EXIT.conflict,
    remedy:
      'The worker running the deploy stopped (killed, or cut off from the database) on its last attempt; what it did is saved: retry the deploy to resume it.',
  },
  ARTIFACT_URL_INVALID: {
    exit: EXIT.auth,
    remedy: 'Signed artifact URLs live for minutes: ask for the job’s credentials again for a fresh URL.',
  },
  RANGE_NOT_SATISFIABLE: {
    exit: EXIT.usage,
    remedy: 'Ask for one range `bytes=FIRST-LAST` inside the artifact (its size is in the credentials answer).',
  },
  SIGN_IN_LINK_INVALID: {
    exit: EXIT.auth,
    remedy: 'Sign-in links work once and for a few minutes; restart the server or ask an admin for a new link.',
  },
  PASSWORD_WEAK: { exit: EXIT.usage, remedy: 'Use a password of at least 12 characters (a passphrase is fine).' },
  DEPLOY_STATE_CONFLICT: {
    exit: EXIT.conflict,
    remedy: 'The deploy changed meanwhile (another worker or person acted on it); reload it and try again.',
  },
  BUILD_FAILED: {
    exit: EXIT.rejected,
    remedy: 'The build command failed; read the last lines of its output in the deploy log, fix the build and retry.',
  },
  BUILD_TIMEOUT: {
    exit: EXIT.deadline,
    remedy: 'The build ran past its timeout and was stopped; raise build.timeout or make the build faster.',
  },
  BUILD_ARTIFACT_NOT_FOUND: {
    exit: EXIT.validation,
    remedy: 'Point build.artifact at the file the command makes, relative to its working folder (e.g. "build/*.ipa").',
  },
  BUILD_ARTIFACT_AMBIGUOUS: {
    exit: EXIT.validation,
    remedy: 'Make build.artifact match exactly one file, e.g. by naming it in full.',
  },
  PERMISSION_DENIED: {
    exit: EXIT.auth,
    remedy: "Your role in this team does not allow this; ask one of the team's owners or admins.",
  },
  CSRF_INVALID: {
    exit: EXIT.auth,
    remedy: 'Reload the dashboard and try again (the request lacked the session’s CSRF token).',
  },
  ARTIFACT_TOO_LARGE: {
    exit: EXIT.validation,
    remedy: 'The upload is larger than the server accepts (--max-artifact-size); check the file, or raise the limit.',
  },
  APP_STORE_VERSION_OPEN: {
    exit: EXIT.conflict,
    remedy:
      'Apple keeps one App Store version open per platform: deploy the build as that version, or remove it (or its review) in App Store Connect, then run again.',
  },
  INTERNAL: { exit: EXIT.bug, remedy: 'This is a bug in ascend; please report it with the output of --verbose.' },
  KEY_FILE_NOT_REGULAR: {
    exit: EXIT.validation,
    remedy: 'Point to the .p8 (or key JSON) file itself, or pass the key on standard input with `--private-key -`.',
  },
  KEY_FILE_TOO_LARGE: {
    exit: EXIT.validation,
    remedy: 'An App Store Connect .p8 is about 250 bytes; point to the AuthKey_<KEYID>.p8 file, not another file.',
  },
  HOME_PERMISSIONS: {
    exit: EXIT.validation,
    remedy: 'Make the folder private to you, e.g. `chmod 700 <folder>`, or point ASCEND_HOME at another folder.',
  },
  INTERRUPTED: {
    exit: EXIT.interrupted,
    remedy: 'What was done is saved; run the same command again to continue where it stopped.',
  },
  SIGNING_BUNDLE_ID_INVALID: {
    exit: EXIT.usage,
    remedy:
      "Give the app's exact bundle ID (e.g. com.example.app): App Store profiles need an explicit App ID, not a wildcard such as com.example.*.",
  },
  SIGNING_PASSWORD_FILE_MISSING: {
    exit: EXIT.validation,
    remedy: 'Check the path given to --p12-password-file, or leave the option out to have a password generated.',
  },
  SIGNING_PASSWORD_FILE_PERMISSIONS: {
    exit: EXIT.validation,
    remedy: 'Make the password file readable by you only, e.g. `chmod 600 <file>`, then retry.',
  },
  SIGNING_PASSWORD_FILE_INVALID: {
    exit: EXIT.validation,
    remedy: 'Put the password on the first line of the file (1–128 characters, no control characters).',
  },
  SIGNING_FORBIDDEN: {
    exit: EXIT.auth,
    remedy:
      'Certificates and profiles need a team key (never an individual key) with the Admin role on some teams, App Manager on others: create one in Users and Access → Integrations and retry.',
  },
  SIGNING_CERTIFICATE_LIMIT: {
    exit: EXIT.conflict,
    remedy:
      'Revoke a distribution certificate you no longer use with `ascend signing revoke CERT_ID` (see `ascend signing list`), then retry.',
  },
  SIGNING_CSR_REJECTED: {
    exit: EXIT.rejected,
    remedy: 'Apple refused the certificate signing request; run the command again, and report it if it repeats.',
  },
  SIGNING_CERTIFICATE_MISMATCH: {
    exit: EXIT.rejected,
    remedy: 'The certificate Apple returned is not for the key made here; it was revoked again. Run the command again.',
  },
  SIGNING_KEY_NOT_SAVED: {
    exit: EXIT.validation,
    remedy:
      'Make $ASCEND_HOME writable by you (the new certificate was revoked again, since its key could not be kept), then retry.',
  },
  SIGNING_PROFILE_MISMATCH: {
    exit: EXIT.conflict,
    remedy:
      'Delete or rename the conflicting profile in the developer portal (Certificates, Identifiers & Profiles → Profiles), then retry.',
  },
  SIGNING_CERTIFICATE_NOT_FOUND: {
    exit: EXIT.notFound,
    remedy: "List the team's certificates with `ascend signing list`; a revoked certificate is gone for good.",
  },
  ASC_RESPONSE_TOO_LARGE: {
    exit: EXIT.network,
    remedy:
      'The server at --api-url sent an answer far larger than App Store Connect ever does; check --api-url, then retry.',
  },
  PORT_IN_USE: {
    exit: EXIT.conflict,
    remedy: 'Stop what listens on that port, or start the server on another one with --port.',
  },
  DATA_DIR_NOT_WRITABLE: {
    exit: EXIT.validation,
    remedy: 'Give the server a folder it can write with --data DIR (it holds the database, master key and uploads).',
  },
  ASC_RESPONSE_INVALID: {
    exit: EXIT.network,
    remedy:
      'The answer was not App Store Connect JSON (a proxy, captive portal or wrong --api-url answers like this); check --api-url and the network, then retry.',
  },
  DOCTOR_FOUND_PROBLEMS: {
    exit: EXIT.doctor,
    remedy:
      'Apply the fix named with each error finding (docs/DOCTOR.md lists them all), then run `ascend doctor` again.',
  },
  STATE_WRITE_FAILED: {
    exit: EXIT.validation,
    remedy:
      'Free disk space or make the state folder named in the message writable by you, then run the same command again to resume.',
  },
  KEY_BLOCKED: {
    exit: EXIT.conflict,
    remedy:
      "The monitor's latest check of this key found it unusable (the message names the finding): apply that finding's fix, then run the check again (POST /api/v1/alerts/check) before deploying.",
  },
  WEBHOOK_SIGNATURE_INVALID: {
    exit: EXIT.auth,
    remedy:
      "The delivery's x-apple-signature header is missing or does not match this webhook's secret; only App Store Connect, with the secret the server registered, can post here (after a rotation the previous secret is accepted for a grace period).",
  },
  WEBHOOK_NOT_REGISTERED: {
    exit: EXIT.conflict,
    remedy:
      'Start the server with --public-url (the address App Store Connect can reach) and sync the apps (POST /api/v1/apps/sync) so the webhook is registered, then rotate again.',
  },
  NOTIFY_TARGET_INVALID: {
    exit: EXIT.validation,
    remedy:
      'Give an https URL of a public host (Slack: the incoming-webhook URL), a name of 1–64 characters and known event names (docs/SERVER.md, "Notifications").',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof CATALOGUE;

export interface AscendErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's remedy when the fix can be named more precisely. */
  remedy?: string;
  details?: Record<string, unknown>;
}

/** Base class of every error meant for a user: stable code, one-line message, remedy, exit code. */
export class AscendError extends Error {
  readonly code: ErrorCode;
  readonly remedy: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AscendErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AscendError';
    this.code = code;
    this.remedy = options.remedy ?? CATALOGUE[code].remedy;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return CATALOGUE[this.code].exit;
  }
}

export function isAscendError(err: unknown): err is AscendError {
  return err instanceof AscendError;
}
