// Live SSH sessions from `netstat -tnp` (issue 18): the fallback where the gateway has no `ss`
// (BusyBox on OpenWrt, where Dropbear is the SSH daemon). BusyBox netstat (networking/netstat.c,
// `"%-23s %-23s %-12s"` addresses, then `PID/Program name`; IPv6 without brackets, `ADDR:PORT`):
//   Active Internet connections (w/o servers)
//   Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
//   tcp        0     52 192.168.1.1:22          192.168.1.100:50110     ESTABLISHED 1234/dropbear
//   tcp        0      0 ::ffff:192.168.1.1:22   ::ffff:192.168.1.100:50111 ESTABLISHED 1240/dropbear
// net-tools netstat prints the same columns (`tcp6` for IPv6 sockets) and the process as the start
// of its command line (`2345/sshd: alice [pr`). One PID per socket (netstat shows the first
// holder). A BusyBox built without FEATURE_NETSTAT_PRG (Debian's) has no `-p` and no last column
// (`netstat -tn`, fixtures/linux-auth/busybox-capture/netstat-tn.txt):
//   tcp        0      0 127.0.0.1:22            127.0.0.1:33438         ESTABLISHED
// Rows of other programs and states are left out; unreadable rows are skipped. Never throws.
import { canonicalClientAddress, isPid, isPort, type LiveSshConnection, type SshDaemon } from '../../domain/ssh-sessions.js';
import type { SsSessionsReport } from './ss-sessions.js';

const MAX_LINE_LENGTH = 1024;
const MAX_SKIPPED = 200;
const ROW = /^(tcp6?)\s+([0-9]{1,12})\s+([0-9]{1,12})\s+(\S{1,64})\s+(\S{1,64})\s+([A-Z_0-9]{1,16})(?:\s+(?:([0-9]{1,10})\/(\S{1,32})(?:\s.*)?|-))?\s*$/;

function endpoint(text: string): { ip: string; port: number } | null {
  const colon = text.lastIndexOf(':');
  if (colon <= 0 || !/^[0-9]{1,5}$/.test(text.slice(colon + 1))) return null;
  const port = Number(text.slice(colon + 1));
  const ip = canonicalClientAddress(text.slice(0, colon));
  return ip !== null && isPort(port) ? { ip, port } : null;
}

function daemonOf(program: string): SshDaemon | null {
  const name = program.endsWith(':') ? program.slice(0, -1) : program;
  if (name === 'sshd' || name.startsWith('sshd-sess')) return 'sshd';
  return name === 'dropbear' ? 'dropbear' : null;
}

/** Established sockets of sshd/dropbear from `netstat -tnp`, as parseSsSessions reports them. */
export function parseNetstatSessions(text: string): SsSessionsReport {
  const report: SsSessionsReport = { connections: [], skipped: [] };
  if (typeof text !== 'string') return report;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === '' || /^(?:Active Internet|Proto\s)/.test(line)) continue;
    const m = line.length > MAX_LINE_LENGTH ? null : ROW.exec(line);
    if (m === null) {
      if (report.skipped.length < MAX_SKIPPED) report.skipped.push(line);
      continue;
    }
    if (m[6] !== 'ESTABLISHED') continue;
    const local = endpoint(m[4]!);
    const peer = endpoint(m[5]!);
    if (local === null || peer === null) continue;
    if (m[7] === undefined) {
      // No PID/Program column (a BusyBox built without it): every socket, the caller keeps those on
      // the SSH port; on BusyBox that daemon is Dropbear.
      report.connections.push({ daemon: 'dropbear', pids: [], localIp: local.ip, localPort: local.port, peerIp: peer.ip, peerPort: peer.port });
      continue;
    }
    const daemon = daemonOf(m[8]!);
    const pid = Number(m[7]);
    if (daemon === null || !isPid(pid)) continue;
    report.connections.push({ daemon, pids: [pid], localIp: local.ip, localPort: local.port, peerIp: peer.ip, peerPort: peer.port });
  }
  return report;
}
