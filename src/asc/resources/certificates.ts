import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type Certificate = Schemas['Certificate'];
export type CertificateType = Schemas['CertificateType'];

/** The cross-platform "Apple Distribution" type and the legacy iOS one; both sign App Store builds. */
export const DISTRIBUTION_CERTIFICATE_TYPES: CertificateType[] = ['DISTRIBUTION', 'IOS_DISTRIBUTION'];

/**
 * Certificates of the team, optionally of some types, with their DER content.
 * https://developer.apple.com/documentation/appstoreconnectapi/get-v1-certificates
 */
export async function listCertificates(
  client: AscClient,
  f: { types?: CertificateType[]; withContent?: boolean } = {},
): Promise<Certificate[]> {
  const fields = ['name', 'certificateType', 'displayName', 'serialNumber', 'platform', 'expirationDate', 'activated'];
  if (f.withContent) fields.push('certificateContent');
  const { data } = await collect<Certificate>(client, '/v1/certificates', {
    'filter[certificateType]': f.types,
    'fields[certificates]': fields.join(','),
  });
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-certificates-_id_ */
export async function getCertificate(client: AscClient, id: string): Promise<Certificate> {
  const res = await client.request<Schemas['CertificateResponse']>({
    method: 'GET',
    path: `/v1/certificates/${encodeURIComponent(id)}`,
  });
  return res.body.data;
}

/**
 * Asks Apple to issue a certificate for a CSR (PEM text, BEGIN/END lines included, as fastlane sends it).
 * A create: never re-sent blindly (src/core/policy.ts).
 * https://developer.apple.com/documentation/appstoreconnectapi/post-v1-certificates
 */
export async function createCertificate(
  client: AscClient,
  certificateType: CertificateType,
  csrPem: string,
): Promise<Certificate> {
  const res = await client.request<Schemas['CertificateResponse']>({
    method: 'POST',
    path: '/v1/certificates',
    body: {
      data: { type: 'certificates', attributes: { certificateType, csrContent: csrPem } },
    } satisfies Schemas['CertificateCreateRequest'],
  });
  return res.body.data;
}

/** Revokes a certificate (Apple's DELETE is a revocation). https://developer.apple.com/documentation/appstoreconnectapi/delete-v1-certificates-_id_ */
export async function revokeCertificate(client: AscClient, id: string): Promise<void> {
  await client.request({ method: 'DELETE', path: `/v1/certificates/${encodeURIComponent(id)}` });
}
