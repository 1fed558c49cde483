// The Wyoming service announced over mDNS as <name>._wyoming._tcp.local., which Home Assistant's Wyoming
// integration listens for and offers to add. bonjour-service probes the name first and re-announces;
// leaving says goodbye (TTL 0) so HA forgets the address at once.
import { networkInterfaces } from 'node:os';
import { Bonjour, type Service } from 'bonjour-service';
import type { Logger } from '../../log.js';
import { announcedAddresses, mdnsHostName } from './zeroconf-addresses.js';

/** How long the probe and first announcement may take before the name is reported as not announced. */
const ANNOUNCE_TIMEOUT_MS = 5_000;

export class ZeroconfAdvert {
  private bonjour: Bonjour | undefined;
  private service: Service | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  /** Announces name on port with the addresses of `interfaces` (none named: all but virtual networks). */
  advertise(name: string, port: number, interfaces: readonly string[] = []): void {
    const failed = (err: Error) => this.log.warn(`zeroconf: mDNS failed, Home Assistant will not discover the Wyoming service: ${err.message}`);
    const host = mdnsHostName();
    let addresses: Set<string>;
    try {
      // getifaddrs: netlink, which a sandbox may forbid.
      addresses = announcedAddresses(networkInterfaces(), interfaces);
      this.bonjour = new Bonjour({}, failed);
      const service = this.bonjour.publish({ name, type: 'wyoming', protocol: 'tcp', port, host });
      // The library puts an A or AAAA record in for every interface's address; keep the chosen ones. Its
      // records are read when the announcement goes out, after the probe, so this is in time.
      const every = service.records.bind(service);
      service.records = () => every().filter((r) => (r.type !== 'A' && r.type !== 'AAAA') || addresses.has(String(r.data)));
      this.service = service;
    } catch (err) {
      failed(err as Error);
      void this.stop();
      return;
    }
    this.service.on('up', () => {
      clearTimeout(this.timer);
      this.log.info('zeroconf: announced', { name: `${name}._wyoming._tcp.local.`, host, port, addresses: [...addresses] });
    });
    // A name another host holds is dropped by the library after its probe, without an event.
    this.timer = setTimeout(() => {
      if (!this.service?.published) this.log.warn(`zeroconf: "${name}" was not announced (is the name in use on the network? set wyoming.name)`);
    }, ANNOUNCE_TIMEOUT_MS);
    if (addresses.size === 0) {
      const which = interfaces.length ? `wyoming.zeroconf_interfaces (${interfaces.join(', ')})` : 'any interface but loopback and virtual networks';
      this.log.warn(`zeroconf: no address on ${which}: Home Assistant will find the service's name but no way to reach it`);
    }
    this.timer.unref();
  }

  /** Says goodbye on the network, then closes the mDNS socket. */
  stop(): Promise<void> {
    clearTimeout(this.timer);
    const bonjour = this.bonjour;
    this.bonjour = undefined;
    if (!bonjour) return Promise.resolve();
    return new Promise((resolve) => {
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        clearTimeout(guard);
        bonjour.destroy(() => resolve());
      };
      const guard = setTimeout(close, 1_000); // a goodbye that cannot be sent must not hold the stop up
      try {
        bonjour.unpublishAll(close);
      } catch {
        close();
      }
    });
  }
}
