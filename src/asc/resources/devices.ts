import type { AscClient } from '../http/client.js';
import { collect } from '../http/paginate.js';
import type { Schemas } from './common.js';

export type Device = Schemas['Device'];

/** https://developer.apple.com/documentation/appstoreconnectapi/get-v1-devices */
export async function listDevices(
  client: AscClient,
  f: { platform?: Schemas['BundleIdPlatform']; status?: 'ENABLED' | 'DISABLED'; udid?: string } = {},
): Promise<Device[]> {
  const { data } = await collect<Device>(client, '/v1/devices', {
    'filter[platform]': f.platform ? [f.platform] : undefined,
    'filter[status]': f.status ? [f.status] : undefined,
    'filter[udid]': f.udid ? [f.udid] : undefined,
  });
  return data;
}

/** https://developer.apple.com/documentation/appstoreconnectapi/post-v1-devices */
export async function registerDevice(
  client: AscClient,
  attrs: { name: string; platform: Schemas['BundleIdPlatform']; udid: string },
): Promise<Device> {
  const res = await client.request<Schemas['DeviceResponse']>({
    method: 'POST',
    path: '/v1/devices',
    body: { data: { type: 'devices', attributes: attrs } } satisfies Schemas['DeviceCreateRequest'],
  });
  return res.body.data;
}

/** Devices cannot be deleted, only disabled. https://developer.apple.com/documentation/appstoreconnectapi/patch-v1-devices-_id_ */
export async function setDeviceStatus(client: AscClient, id: string, status: 'ENABLED' | 'DISABLED'): Promise<Device> {
  const res = await client.request<Schemas['DeviceResponse']>({
    method: 'PATCH',
    path: `/v1/devices/${encodeURIComponent(id)}`,
    body: { data: { type: 'devices', id, attributes: { status } } } satisfies Schemas['DeviceUpdateRequest'],
  });
  return res.body.data;
}
