// Which of this host's addresses the Wyoming announcement carries. Home Assistant connects to the first
// address it is given: one on a container or VM bridge (docker0, a Docker network's br-<id>, libvirt's
// virbr0, ...) is unreachable from the LAN. A bridge the LAN itself runs on (a server's br0) is kept:
// only the names those tools give their private networks are skipped.
import { hostname, type NetworkInterfaceInfo } from 'node:os';

const VIRTUAL_NETWORKS = /^(docker\d*|br-[0-9a-f]{12}|veth|virbr|lxcbr|lxdbr|incusbr|cni|flannel|podman|vmnet|vboxnet)/;

/** The addresses to announce, from a networkInterfaces() table: those of the named interfaces, or, with
 * no names, of every interface but loopback and the virtual networks above. */
export function announcedAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>, only: readonly string[]): Set<string> {
  const picked = Object.entries(interfaces).filter(([name]) => (only.length ? only.includes(name) : !VIRTUAL_NETWORKS.test(name)));
  return new Set(picked.flatMap(([, addrs]) => (addrs ?? []).filter((a) => !a.internal).map((a) => a.address)));
}

/** This host's mDNS name: its first label under .local (HA resolves the service's target by it). */
export function mdnsHostName(name = hostname()): string {
  return `${name.split('.')[0]}.local`;
}
