// The Wyoming service announced over mDNS as <name>._wyoming._tcp.local., which Home Assistant's Wyoming
// integration listens for and offers to add. bonjour-service probes the name first and re-announces;
// leaving says goodbye (TTL 0) so HA forgets the address at once.
import { Bonjour, type Service } from 'bonjour-service';
import type { Logger } from '../../log.js';

/** How long the probe and first announcement may take before the name is reported as not announced. */
const ANNOUNCE_TIMEOUT_MS = 5_000;

export class ZeroconfAdvert {
  private bonjour: Bonjour | undefined;
  private service: Service | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly log: Logger) {}

  advertise(name: string, port: number): void {
    const failed = (err: Error) => this.log.warn(`zeroconf: mDNS failed, Home Assistant will not discover the Wyoming service: ${err.message}`);
    try {
      this.bonjour = new Bonjour({}, failed);
      // Lists the interfaces' addresses (getifaddrs: netlink, which a sandbox may forbid).
      this.service = this.bonjour.publish({ name, type: 'wyoming', protocol: 'tcp', port });
    } catch (err) {
      failed(err as Error);
      void this.stop();
      return;
    }
    this.service.on('up', () => {
      clearTimeout(this.timer);
      this.log.info('zeroconf: announced', { name: `${name}._wyoming._tcp.local.`, port });
    });
    // A name another host holds is dropped by the library after its probe, without an event.
    this.timer = setTimeout(() => {
      if (!this.service?.published) this.log.warn(`zeroconf: "${name}" was not announced (is the name in use on the network? set wyoming.name)`);
    }, ANNOUNCE_TIMEOUT_MS);
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
