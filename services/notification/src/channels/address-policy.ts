import { isIP } from 'node:net';

// Which addresses an integrator's webhook may reach (issue 17.1). A subscription URL is chosen
// by whoever holds a key; without this check it reaches our loopback, the cloud metadata service
// (169.254.169.254) and every internal network, and the delivery log tells them what answered.
// Pure: the channel and the subscription route both ask it, about every address a name resolves to.

/** Why an address is refused; null when it is a public unicast address. */
export type RefusedClass =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'reserved'
  | 'unique_local'
  | 'site_local'
  | 'ipv4_compatible';

interface Range {
  bytes: number[];
  prefix: number;
  cls: RefusedClass;
}

const v4 = (cidr: string, cls: RefusedClass): Range => {
  const [addr, prefix] = cidr.split('/') as [string, string];
  return { bytes: addr.split('.').map(Number), prefix: Number(prefix), cls };
};

const V4_REFUSED: Range[] = [
  v4('0.0.0.0/8', 'unspecified'),
  v4('10.0.0.0/8', 'private'),
  v4('100.64.0.0/10', 'cgnat'),
  v4('127.0.0.0/8', 'loopback'),
  v4('169.254.0.0/16', 'link_local'),
  v4('172.16.0.0/12', 'private'),
  v4('192.0.0.0/24', 'reserved'),
  v4('192.168.0.0/16', 'private'),
  v4('198.18.0.0/15', 'reserved'),
  v4('224.0.0.0/4', 'multicast'),
  v4('240.0.0.0/4', 'reserved'),
];

function inRange(bytes: readonly number[], range: Range): boolean {
  let bits = range.prefix;
  for (let i = 0; bits > 0; i += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyV4(bytes: readonly number[]): RefusedClass | null {
  return V4_REFUSED.find((r) => inRange(bytes, r))?.cls ?? null;
}

/** 16 bytes of an IPv6 address (a zone id is ignored; an IPv4 tail is read as such). */
export function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0]!;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4part = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail.push(...v4part);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.includes('::') ? (text.split('::') as [string, string]) : [text, null];
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const r = rest === null ? [] : groups(rest);
  const all = rest === null ? h : [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r];
  const bytes = all.flatMap((g) => [(g >> 8) & 0xff, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function classifyV6(bytes: readonly number[]): RefusedClass | null {
  const zeroUpTo = (n: number) => bytes.slice(0, n).every((b) => b === 0);
  if (zeroUpTo(16)) return 'unspecified';
  if (zeroUpTo(15) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d reach the IPv4 address inside.
  if (zeroUpTo(10) && bytes[10] === 0xff && bytes[11] === 0xff) return classifyV4(bytes.slice(12));
  if (inRange(bytes, { bytes: [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], prefix: 96, cls: 'reserved' })) return classifyV4(bytes.slice(12));
  // 6to4 2002:aabb:ccdd::/48 carries an IPv4 address too.
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyV4(bytes.slice(2, 6));
  // Deprecated IPv4-compatible ::a.b.c.d: nothing legitimate uses it.
  if (zeroUpTo(12)) return 'ipv4_compatible';
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  if ((b0 & 0xfe) === 0xfc) return 'unique_local';
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'link_local';
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'site_local';
  if (b0 === 0xff) return 'multicast';
  // 100::/64 discard-only.
  if (b0 === 0x01 && b1 === 0x00 && zeroUpTo(8)) return 'reserved';
  return null;
}

/** The class an IP address is refused for, or null when a webhook may connect to it. Not an IP → 'reserved'. */
export function refusedClass(address: string): RefusedClass | null {
  const family = isIP(address.split('%')[0]!);
  if (family === 4) return classifyV4(address.split('.').map(Number));
  if (family === 6) return classifyV6(ipv6Bytes(address));
  return 'reserved';
}

/** Thrown when a webhook target is, or resolves to, an address we do not connect to. */
export class RefusedAddressError extends Error {
  override name = 'RefusedAddressError';
  readonly code = 'EREFUSEDADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
    readonly cls: RefusedClass,
  ) {
    super(`${host} resolves to ${address} (${cls.replace('_', '-')} address): webhooks may reach public addresses only`);
  }
}
