import { AscApiError } from '../asc/http/errors.js';
import { writeOnce } from '../asc/http/reconcile.js';
import {
  type Certificate,
  createCertificate,
  DISTRIBUTION_CERTIFICATE_TYPES,
  listCertificates,
  revokeCertificate,
} from '../asc/resources/certificates.js';
import { AscendError } from '../core/errors.js';
import { certificateMatchesKey, makeCsr, newRsaKey, spkiOfCertificate, spkiOfKey } from './crypto.js';
import type { HeldCertificate, PendingKey } from './key-store.js';
import { printable } from './text.js';
import type { SigningContext } from './types.js';

const DAY_MS = 86_400_000;
/**
 * A pending key no listed certificate matches is dropped only once this old: a younger one may belong to
 * another run on this machine whose create is still on its way.
 */
const PENDING_STALE_MS = 10 * 60_000;

export interface EnsuredCertificate {
  held: HeldCertificate;
  created: boolean;
  /** Certificates whose keys we hold but Apple no longer lists (revoked elsewhere). */
  revokedHeld: string[];
}

const expiryOf = (c: Certificate) => Date.parse(c.attributes?.expirationDate ?? '') || 0;

/**
 * A distribution certificate whose private key this machine holds, valid beyond the renewal window: reused
 * if there is one, otherwise made (key and CSR here, certificate by Apple) and stored with its key. A
 * certificate Apple issued that cannot be stored with its key is revoked again, so nothing is left half-made.
 */
export async function ensureCertificate(ctx: SigningContext): Promise<EnsuredCertificate> {
  const listed = await listCertificates(ctx.client, { types: DISTRIBUTION_CERTIFICATE_TYPES, withContent: true });
  await adoptPending(ctx, listed);
  const byId = new Map(listed.map((c) => [c.id, c]));
  const horizon = ctx.clock.now() + ctx.renewWithinDays * DAY_MS;
  const revokedHeld: string[] = [];
  let best: HeldCertificate | undefined;
  for (const id of await ctx.keys.ids()) {
    const held = await ctx.keys.get(id);
    const apple = byId.get(id);
    if (!held) continue;
    if (!apple) {
      // Not a distribution certificate, or revoked: in either case not one to sign App Store builds with.
      if (DISTRIBUTION_CERTIFICATE_TYPES.includes(held.certificateType as never)) revokedHeld.push(id);
      continue;
    }
    const sameCert = apple.attributes?.certificateContent === held.certificateContent;
    if (!sameCert || expiryOf(apple) <= horizon) continue;
    if (!best || expiryOf(apple) > Date.parse(best.expirationDate)) best = held;
  }
  if (best) return { held: best, created: false, revokedHeld };
  const held = await createDistributionCertificate(ctx, listed, new Set(await ctx.keys.ids()));
  return { held, created: true, revokedHeld };
}

async function createDistributionCertificate(
  ctx: SigningContext,
  listed: Certificate[],
  heldIds: Set<string>,
): Promise<HeldCertificate> {
  const privateKeyPem = newRsaKey();
  const csr = makeCsr(privateKeyPem, `ascend ${ctx.bundleIdentifier}`);
  const spki = spkiOfKey(privateKeyPem);
  const pending: PendingKey = { spki, privateKeyPem, createdAt: new Date(ctx.clock.now()).toISOString() };
  try {
    // Kept before the create: killed after Apple's answer, the next run still finds the key (adoptPending).
    await ctx.keys.savePending(pending);
  } catch (cause) {
    throw new AscendError(
      'SIGNING_KEY_NOT_SAVED',
      `a new private key could not be saved under ${ctx.keys.home} (${printable((cause as Error).message)}); no certificate was created`,
      { cause, remedy: 'Make $ASCEND_HOME writable by you, then retry.' },
    );
  }
  let cert: Certificate;
  try {
    cert = await writeOnce(
      ctx.client,
      () => createCertificate(ctx.client, 'DISTRIBUTION', csr),
      async () =>
        (await listCertificates(ctx.client, { types: ['DISTRIBUTION'], withContent: true })).find(
          (c) => c.attributes?.certificateContent && spkiOfCertificate(der(c)) === spki,
        ),
    );
  } catch (err) {
    throw explainCreateFailure(err, listed, heldIds, ctx);
  }
  ctx.onWrite(`created certificate ${cert.id}`);
  const content = cert.attributes?.certificateContent ?? '';
  if (!content || !certificateMatchesKey(der(cert), privateKeyPem)) {
    await revokeQuietly(ctx, cert.id);
    await ctx.keys.removePending(spki).catch(() => {});
    throw new AscendError(
      'SIGNING_CERTIFICATE_MISMATCH',
      `certificate ${cert.id} from Apple is not for the key made here`,
    );
  }
  const held = heldOf(cert, privateKeyPem, ctx);
  try {
    await ctx.keys.save(held);
    await ctx.keys.removePending(spki);
  } catch (cause) {
    await revokeQuietly(ctx, cert.id);
    await ctx.keys.removePending(spki).catch(() => {});
    throw new AscendError(
      'SIGNING_KEY_NOT_SAVED',
      `the private key of certificate ${cert.id} could not be saved under ${ctx.keys.home} (${(cause as Error).message}); the certificate was revoked again`,
      { cause },
    );
  }
  return held;
}

const heldOf = (cert: Certificate, privateKeyPem: string, ctx: SigningContext): HeldCertificate => ({
  certificateId: cert.id,
  certificateType: cert.attributes?.certificateType ?? 'DISTRIBUTION',
  serialNumber: cert.attributes?.serialNumber ?? '',
  expirationDate: cert.attributes?.expirationDate ?? '',
  certificateContent: cert.attributes?.certificateContent ?? '',
  privateKeyPem,
  createdAt: new Date(ctx.clock.now()).toISOString(),
});

/**
 * Keys saved before a create whose run stopped before saving the certificate: a listed certificate with the
 * key's public key is that create's, and is kept with its key (held from now on); a key no certificate
 * matches never got one and is dropped once stale.
 */
async function adoptPending(ctx: SigningContext, listed: Certificate[]): Promise<void> {
  for (const p of await ctx.keys.pending()) {
    const cert = listed.find((c) => c.attributes?.certificateContent && spkiOfCertificate(der(c)) === p.spki);
    if (cert) {
      await ctx.keys.save(heldOf(cert, p.privateKeyPem, ctx));
      ctx.onWarning(`kept certificate ${cert.id}, made by an earlier run that stopped before saving its key`);
    } else if (ctx.clock.now() - (Date.parse(p.createdAt) || 0) < PENDING_STALE_MS) continue;
    await ctx.keys.removePending(p.spki);
  }
}

const der = (c: Certificate) => Buffer.from(c.attributes?.certificateContent ?? '', 'base64');

async function revokeQuietly(ctx: SigningContext, id: string): Promise<void> {
  try {
    await revokeCertificate(ctx.client, id);
    ctx.onWrite(`revoked certificate ${id}`);
  } catch (err) {
    ctx.onWarning(`certificate ${id} could not be revoked (${(err as Error).message}); revoke it in the portal`);
  }
}

/** Apple's 409s on a certificate create: the CSR refused (pointer at csrContent), or the team's cap reached. */
function explainCreateFailure(err: unknown, listed: Certificate[], heldIds: Set<string>, ctx: SigningContext): unknown {
  if (!(err instanceof AscApiError) || err.status !== 409) return err;
  const pointer = err.errors.map((e) => e.source?.pointer ?? '').join(' ');
  if (pointer.includes('csrContent'))
    return new AscendError(
      'SIGNING_CSR_REJECTED',
      `Apple refused the certificate request: ${printable(err.errors[0]?.detail)}`,
      {
        cause: err,
      },
    );
  const inUse = listed
    .filter((c) => expiryOf(c) > ctx.clock.now())
    .map(
      (c) =>
        `${printable(c.id, 64)} "${printable(c.attributes?.name)}" expires ${printable(c.attributes?.expirationDate?.slice(0, 10) ?? '?')}${heldIds.has(c.id) ? ' (key held here, expiring soon)' : ''}`,
    );
  const oldest = [...listed].sort((a, b) => expiryOf(a) - expiryOf(b))[0];
  return new AscendError(
    'SIGNING_CERTIFICATE_LIMIT',
    `the team has reached Apple's limit of distribution certificates and none is usable here: ${inUse.join('; ')}`,
    {
      cause: err,
      remedy: `Revoke one you no longer use, e.g. \`ascend signing revoke ${oldest?.id ?? 'CERT_ID'}\` (builds signed with it keep working; its profiles turn invalid), then retry.`,
      details: { certificates: listed.map((c) => ({ id: c.id, ...c.attributes, certificateContent: undefined })) },
    },
  );
}
