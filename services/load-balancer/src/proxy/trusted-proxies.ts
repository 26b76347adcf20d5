// TRUSTED_PROXIES: the peers whose X-Forwarded-* / Forwarded headers the proxy keeps (a TLS
// terminator or CDN in front of Headroom). Anyone else could write them to pass as another
// client address or as https, so from them the proxy drops the incoming ones and writes its
// own. No I/O: node's BlockList matches addresses against the CIDRs.
import { BlockList, isIP } from 'node:net';
import { parseCidr } from '@headroom/shared';

export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** `entries`: CIDRs or single addresses, IPv4 or IPv6 (validated by the config schema). */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseCidr(entry);
      if (typeof parsed === 'string') throw new Error(parsed);
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.empty = entries.length === 0;
  }

  /** Whether a peer address (as a socket reports it, IPv4-mapped IPv6 included) is trusted. */
  has(address: string | undefined): boolean {
    if (this.empty || address === undefined) return false;
    // a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d
    const bare = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(bare);
    if (family === 0) return false;
    return this.list.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  }
}
