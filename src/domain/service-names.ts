// Well-known ports → the short names the drill-down shows beside a port (issue 19). IANA service
// names (www.iana.org/assignments/service-names-port-numbers) where they read well; common names
// where IANA's do not (53 is "domain" there, shown as dns; 51820 WireGuard and 5201 iperf3 are not
// IANA assignments, 5201 is "targus-getdata1"). QUIC is HTTP/3 on udp/443. Data, not logic.

const BOTH: Record<number, string> = {
  53: 'dns',
  88: 'kerberos',
  123: 'ntp',
  389: 'ldap',
  443: 'https',
  554: 'rtsp',
  1194: 'openvpn',
  3478: 'stun',
  5060: 'sip',
  5201: 'iperf3',
  5353: 'mdns',
};

const TCP: Record<number, string> = {
  20: 'ftp-data',
  21: 'ftp',
  22: 'ssh',
  23: 'telnet',
  25: 'smtp',
  80: 'http',
  110: 'pop3',
  139: 'netbios-ssn',
  143: 'imap',
  445: 'smb',
  465: 'smtps',
  587: 'submission',
  631: 'ipp',
  636: 'ldaps',
  853: 'dns-over-tls',
  993: 'imaps',
  995: 'pop3s',
  1723: 'pptp',
  1883: 'mqtt',
  3389: 'rdp',
  5222: 'xmpp',
  5900: 'vnc',
  8080: 'http-alt',
  8443: 'https-alt',
  8883: 'mqtts',
};

const UDP: Record<number, string> = {
  67: 'dhcp',
  68: 'dhcp',
  69: 'tftp',
  137: 'netbios-ns',
  138: 'netbios-dgm',
  161: 'snmp',
  443: 'quic',
  500: 'isakmp',
  514: 'syslog',
  546: 'dhcpv6',
  547: 'dhcpv6',
  1900: 'ssdp',
  4500: 'ipsec-nat-t',
  51820: 'wireguard',
};

/** The well-known name of `port` for `protocol` (tcp, udp, sctp…), or null. */
export function serviceName(protocol: string, port: number | null): string | null {
  if (port === null || !Number.isInteger(port)) return null;
  const p = protocol.toLowerCase();
  if (p === 'udp' || p === 'udplite') return UDP[port] ?? BOTH[port] ?? null;
  if (p === 'tcp' || p === 'sctp' || p === 'dccp') return TCP[port] ?? BOTH[port] ?? null;
  return null;
}
