import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { AscendError } from '../../core/errors.js';

/**
 * Where a notification may be sent. A target URL is typed by a team admin, and the server sends to it from
 * inside its own network: without a rule, "https://169.254.169.254/…" or "http://10.0.0.5/admin" would make
 * the server a proxy into places only it can reach (SSRF). So by default only https to public addresses;
 * `allowPrivate` (a server option for tests and single-network installs, docs/SERVER.md) also allows http and
 * loopback/private/link-local addresses.
 */
export interface AddressPolicy {
  allowPrivate: boolean;
}

/** Addresses that are not the public internet (RFC 6890 special-purpose ranges). */
const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2001:db8::', 32],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** True for an address that is loopback, private, link-local, multicast or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 host: judge that.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  return PRIVATE.check(address, 'ipv6');
}

const invalid = (message: string) =>
  new AscendError('NOTIFY_TARGET_INVALID', message, {
    remedy:
      'Give an https URL of a public host (Slack: the incoming-webhook URL from your Slack app); private addresses need a server started with --allow-private-notify-targets.',
  });

/** The URL a target may have: https (http only with the allowance), no credentials, a literal IP only if public. */
export function validateTargetUrl(raw: string, policy: AddressPolicy): URL {
  if (raw.length > 2048) throw invalid('the URL is longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('the URL is not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowPrivate))
    throw invalid(`the URL must use https (not ${url.protocol.replace(':', '')})`);
  if (url.username || url.password) throw invalid('the URL must not hold a user name or password');
  const host = hostOf(url);
  if (isIP(host) !== 0 && !policy.allowPrivate && isPrivateAddress(host))
    throw invalid(`the URL points at a private or local address (${host})`);
  if (!policy.allowPrivate && /^(localhost|.*\.localhost|.*\.local|.*\.internal)$/i.test(host))
    throw invalid(`the URL points at a local name (${host})`);
  return url;
}

/** The host without IPv6 brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses private addresses: checked when connecting, not only when the
 * target is saved, because a name can resolve elsewhere later (DNS rebinding).
 */
export function guardedLookup(policy: AddressPolicy) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = policy.allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) {
        const e: NodeJS.ErrnoException = new Error(`${hostname} resolves to a private address`);
        e.code = 'ADDRESS_REFUSED';
        return callback(e, []);
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), []);
      return callback(null, first.address, first.family);
    });
  };
}
