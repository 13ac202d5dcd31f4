import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Ranges a webhook may not reach: loopback, private, carrier-grade NAT, link-local (cloud
 * metadata at 169.254.169.254), "this network", documentation, benchmarking, multicast and
 * reserved. IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry.
 */
const REFUSED_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;
const REFUSED_V6 = [
  ['::', 96], // unspecified, ::1 and the deprecated IPv4-compatible forms
  ['64:ff9b::', 96], // NAT64: reaches whatever IPv4 address it embeds
  ['2001:db8::', 32],
  ['2002::', 16], // 6to4: embeds an IPv4 address too
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const;

const refused = new BlockList();
for (const [net, prefix] of REFUSED_V4) refused.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of REFUSED_V6) refused.addSubnet(net, prefix, 'ipv6');

/** `::ffff:127.0.0.1` (or its hex form `::ffff:7f00:1`) → `127.0.0.1`; other addresses as they are. */
export function unmapped(address: string): string {
  const lower = address.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return address;
}

export function isRefusedAddress(address: string): boolean {
  const a = unmapped(address);
  const family = isIP(a);
  if (family === 0) return true;
  return refused.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

export interface AddressPolicy {
  allowHttp: boolean;
  /** Host names (exact), addresses and CIDRs that may be reached even when private. */
  allowed: string[];
}

/** A URL checked for delivery: the address to connect to, so DNS cannot change in between. */
export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Why a URL may not be called; the message is safe to show to the manager who registered it. */
export class RefusedTarget extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedTarget';
  }
}

export function createAddressGuard(policy: AddressPolicy) {
  const allowedNames = new Set<string>();
  const allowedNets = new BlockList();
  for (const entry of policy.allowed) {
    const [net, prefix] = entry.split('/');
    const family = isIP(net ?? '');
    if (family === 0) {
      allowedNames.add(entry.toLowerCase());
    } else {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      allowedNets.addSubnet(net!, prefix ? Number(prefix) : family === 4 ? 32 : 128, type);
    }
  }

  function permitted(hostname: string, address: string): boolean {
    if (allowedNames.has(hostname)) return true;
    const a = unmapped(address);
    const family = isIP(a);
    if (family !== 0 && allowedNets.check(a, family === 4 ? 'ipv4' : 'ipv6')) return true;
    return !isRefusedAddress(a);
  }

  function parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RefusedTarget('is not a URL');
    }
    if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
      throw new RefusedTarget(policy.allowHttp ? 'must be an http(s) URL' : 'must be an https URL');
    }
    if (url.username || url.password) throw new RefusedTarget('must not carry credentials');
    return url;
  }

  /**
   * Resolves the host and refuses it if ANY address is not allowed: an attacker's name that
   * resolves to a public and a private address must not get the private one on a retry.
   */
  async function check(raw: string): Promise<CheckedTarget> {
    const url = parse(raw);
    const hostname = hostOf(url);
    const addresses = await resolve(hostname);
    const bad = addresses.find((a) => !permitted(hostname, a.address));
    if (bad || addresses.length === 0) {
      throw new RefusedTarget(
        `resolves to ${bad?.address ?? 'nothing'}, a loopback, private, link-local or reserved address`,
      );
    }
    const first = addresses[0]!;
    return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  /**
   * At registration: the same check, except that a host name on the allow-list is trusted
   * whatever it resolves to, even nothing yet (delivery resolves it then).
   */
  async function checkRegistration(raw: string): Promise<void> {
    const url = parse(raw);
    if (!allowedNames.has(hostOf(url))) await check(raw);
  }

  return { check, checkRegistration };
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

async function resolve(hostname: string): Promise<{ address: string; family: number }[]> {
  const family = isIP(hostname);
  if (family !== 0) return [{ address: hostname, family }];
  try {
    return await lookup(hostname, { all: true });
  } catch {
    throw new RefusedTarget(`host ${hostname} does not resolve`);
  }
}

export type AddressGuard = ReturnType<typeof createAddressGuard>;
