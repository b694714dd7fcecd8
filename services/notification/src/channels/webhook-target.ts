import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { RefusedAddressError, refusedClass } from './address-policy.ts';

// Where a webhook may connect, checked twice: when the subscription is registered (so the
// integrator hears at once) and when each delivery connects. The second check is the one that
// matters: it runs inside the HTTP agent's `lookup`, so the address that was checked is the one
// the socket connects to — a name that answers 93.184.216.34 at registration and 127.0.0.1 at
// send time (DNS rebinding) is refused at send time.

/** Resolves a host name to every address it has (tests inject a fake; the default asks the system resolver). */
export type Resolver = (host: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (host) => dns.lookup(host, { all: true, verbatim: true });

export interface TargetPolicy {
  /** NOTIFY_WEBHOOK_ALLOW_PRIVATE=1: no address is refused (development and tests with local receivers). */
  allowPrivate: boolean;
  resolve: Resolver;
}

/** The host could not be resolved. */
export class UnresolvableTargetError extends Error {
  override name = 'UnresolvableTargetError';
  readonly code = 'ENOTFOUND';
}

/** URL.hostname without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Every address of `host`, each one checked; throws RefusedAddressError or UnresolvableTargetError. */
export async function resolveChecked(host: string, policy: TargetPolicy): Promise<LookupAddress[]> {
  let addresses: LookupAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await policy.resolve(host);
    } catch {
      throw new UnresolvableTargetError(`${host} does not resolve`);
    }
    if (addresses.length === 0) throw new UnresolvableTargetError(`${host} has no addresses`);
  }
  if (!policy.allowPrivate) {
    // One refused address refuses the name: a resolver may hand any of them to the next connect.
    for (const a of addresses) {
      const cls = refusedClass(a.address);
      if (cls) throw new RefusedAddressError(host, a.address, cls);
    }
  }
  return addresses;
}

/** Checks a subscription URL's host at registration. */
export async function checkTarget(url: string, policy: TargetPolicy): Promise<void> {
  await resolveChecked(hostOf(new URL(url)), policy);
}

/**
 * A `lookup` for http(s).Agent: resolves with the policy's resolver and refuses the connection
 * when any address is refused. Node's net calls it with `all: true` (happy eyeballs) or for one
 * address of a family; both are answered from the checked list.
 */
export function guardedLookup(policy: TargetPolicy): LookupFunction {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    resolveChecked(hostname, policy).then(
      (all) => {
        const wanted = options.family === 4 || options.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (wanted.length === 0) {
          callback(new UnresolvableTargetError(`${hostname} has no IPv${String(options.family)} address`), '');
        } else if (options.all) {
          callback(null, wanted);
        } else {
          callback(null, wanted[0]!.address, wanted[0]!.family);
        }
      },
      (err: Error) => callback(err, ''),
    );
  };
}
