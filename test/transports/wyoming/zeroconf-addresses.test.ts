// The addresses and host name the Wyoming announcement carries, on interface tables as a Pi or a home
// server with Docker and libvirt has them.
import test from 'ava';
import type { NetworkInterfaceInfo } from 'node:os';
import { announcedAddresses, mdnsHostName } from '../../../daemon/transports/wyoming/zeroconf-addresses.js';

const v4 = (address: string, internal = false): NetworkInterfaceInfo =>
  ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: `${address}/24` }) as NetworkInterfaceInfo;
const v6 = (address: string): NetworkInterfaceInfo =>
  ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: `${address}/64`, scopeid: 2 }) as NetworkInterfaceInfo;

const server = {
  lo: [v4('127.0.0.1', true)],
  eth0: [v4('192.168.1.20'), v6('fe80::1')],
  wlan0: [v4('192.168.1.21')],
  br0: [v4('192.168.1.22')], // the LAN bridged for VMs: reachable
  docker0: [v4('172.17.0.1')],
  'br-3f2a9c1d0e4b': [v4('172.18.0.1')], // a Docker compose network
  veth5c1e2f3: [v6('fe80::2')],
  virbr0: [v4('192.168.122.1')],
  lxcbr0: [v4('10.0.3.1')],
  cni0: [v4('10.42.0.1')],
};

test('by default: every LAN address, none of loopback or the container and VM networks', (t) => {
  t.deepEqual([...announcedAddresses(server, [])].sort(), ['192.168.1.20', '192.168.1.21', '192.168.1.22', 'fe80::1']);
});

test('wyoming.zeroconf_interfaces names the interfaces, and only theirs are announced (loopback never)', (t) => {
  t.deepEqual([...announcedAddresses(server, ['wlan0'])], ['192.168.1.21']);
  t.deepEqual([...announcedAddresses(server, ['docker0', 'lo'])], ['172.17.0.1'], 'named, even a bridge is announced');
  t.is(announcedAddresses(server, ['eth9']).size, 0);
});

test('the host is announced under .local, by its first label', (t) => {
  t.is(mdnsHostName('raspberrypi'), 'raspberrypi.local');
  t.is(mdnsHostName('kitchen-pi.home.lan'), 'kitchen-pi.local');
});
