// How the lab's routers report their fast path (issue 19), pure part: the stand-ins for the vendor
// tools lantop's offload probes ask, as the real firmware answers them. The emulated fast path
// (lab-fastpath.ts) leaves no trace a probe could see (no flowtable, no [OFFLOAD] in conntrack), so
// without these the routers would forward past their counters and say nothing about it; real
// firmware says it in its configuration or its flow-cache tool. Sources: test/lab/SOURCE.md.
//
// - OpenWrt (`openwrt-fw4`): `/sbin/uci`, reading `/etc/config/firewall` (firewall4's default
//   config; `option flow_offloading '1'` in `config defaults` when offload is on). Only `get` of an
//   option of `@defaults[0]` is modelled, with real uci's output: the bare value and exit 0; when
//   unset `uci: Entry not found` on stderr (nothing with -q) and exit 1 (openwrt/uci cli.c,
//   `uci_do_section_cmd` CMD_GET, `uci_show_value`). Anything else: exit 1, silently.
// - Vendor (Broadcom) routers: `fcctl` first in PATH. `fcctl status` prints the nine lines of the
//   SDK's `fcCtlStatusHandler` (weihutaisui/BCM …/userspace/private/apps/fcctl/fcctl_cmds.c),
//   `Flow Learning Enabled` while the lab's fast path is on, with `Active<N>` = the connections on
//   it now and `Cummulative [ inserted - removed ]`. Other subcommands: exit 1, silently.
import type { FastPathKind } from './lab-fastpath.js';
import { FASTPATH_TABLE } from './lab-fastpath.js';

/** `Max<…>` of the status line: the flow table size in the published summary of a newer SDK (SOURCE.md). */
export const FCCTL_MAX_FLOWS = 16383;

/** The fixed part of `fcctl status` (the first eight lines), values as in fixtures/offload/broadcom-fcctl/. */
export const FCCTL_STATUS_HEAD: readonly string[] = Object.freeze([
  '\tFlow Timer Interval = 10000 millisecs',
  '\tPkt-HW Activate Deferral = 1',
  '\tPkt-HW Idle Deactivate = 0',
  '\tAcceleration Mode: <L3>',
  '\tMCast Learning <Enabled>',
  '\tMCast Acceleration IPv4<Enabled> IPv6<Disabled>',
  '\tIPv6 Learning <Enabled>',
  '\tGRE Learning <Disabled> Mode<PassThru>',
]);

/** `"\tFlow Learning %s : Max<%u>, Active<%u>, Cummulative [ %u - %u ]\n"` (fcCtlStatusHandler). */
export function fcctlLearningLine(enabled: boolean, active: number, inserted: number): string {
  const removed = Math.max(0, inserted - active);
  return `\tFlow Learning ${enabled ? 'Enabled' : 'Disabled'} : Max<${FCCTL_MAX_FLOWS}>, Active<${active}>, Cummulative [ ${inserted} - ${removed} ]`;
}

/** Where the emulated fast path's watcher keeps its count of connections put on the fast path. */
export const FASTPATH_INSERTED_FILE = 'fastpath-inserted';

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
/** printf(1) format of a fixed line: `%` and `\` escaped, `\t` kept as printf's escape. */
const printfLine = (line: string): string => shellQuote(`${line.replace(/\\/g, '\\\\').replace(/%/g, '%%').replace(/\t/g, '\\t')}\\n`);

/**
 * The `fcctl` stand-in for a vendor router: a /bin/sh script. `fastPath` null = offload off
 * (`Flow Learning Disabled`, Active<0>). Active: emulated, the connections in the fast path's sets
 * now (one element of `up4` per IPv4 connection, one of `flows6` per IPv6 one); kernel flowtable,
 * conntrack's [OFFLOAD] entries. Inserted: the watcher's count (`statsDir/fastpath-inserted`), at
 * least Active.
 */
export function fcctlScript(fastPath: FastPathKind | null, statsDir: string): string {
  const count = fastPath === 'emulated'
    ? `active=$( { nft -j list set netdev ${FASTPATH_TABLE} up4; nft -j list set netdev ${FASTPATH_TABLE} flows6; } 2>/dev/null | grep -o '"concat"' | wc -l | tr -d ' ')`
    : fastPath === 'kernel-flowtable'
      ? "active=$(conntrack -L 2>/dev/null | grep -c -F '[OFFLOAD]')"
      : 'active=0';
  return [
    '#!/bin/sh',
    '# lantop lab: Broadcom fcctl stand-in (test/lab/lab-offload-standins.ts); only `status` is modelled.',
    '[ "$#" -eq 1 ] && [ "$1" = status ] || exit 1',
    count,
    'active=$((active + 0))',
    `inserted=$(cat ${shellQuote(`${statsDir}/${FASTPATH_INSERTED_FILE}`)} 2>/dev/null)`,
    'inserted=$((${inserted:-0} + 0))',
    '[ "$inserted" -ge "$active" ] || inserted=$active',
    ...FCCTL_STATUS_HEAD.map((line) => `printf ${printfLine(line)}`),
    `printf '\\tFlow Learning %s : Max<%u>, Active<%u>, Cummulative [ %u - %u ]\\n' ${fastPath ? 'Enabled' : 'Disabled'} ${FCCTL_MAX_FLOWS} "$active" "$inserted" "$((inserted - active))"`,
    '',
  ].join('\n');
}

/**
 * The `uci` stand-in for the OpenWrt router: `uci [-q] get firewall.@defaults[0].<option>` from
 * /etc/config/firewall (its first `config defaults` section), as openwrt/uci's cli.c answers it.
 * Values are read as uci's parser takes a simple word: bare, or in single or double quotes.
 */
export function uciScript(): string {
  return [
    '#!/bin/sh',
    '# lantop lab: uci stand-in (test/lab/lab-offload-standins.ts); only `get firewall.@defaults[0].OPTION`.',
    'quiet=0',
    'while [ "$#" -gt 0 ]; do',
    '  case "$1" in',
    '    -q) quiet=1; shift ;;',
    '    -*) exit 1 ;;',
    '    *) break ;;',
    '  esac',
    'done',
    '[ "$#" -eq 2 ] && [ "$1" = get ] || exit 1',
    'case "$2" in',
    "  'firewall.@defaults[0].'*) option=${2#'firewall.@defaults[0].'} ;;",
    '  *) exit 1 ;;',
    'esac',
    'case "$option" in',
    "  ''|*[!a-z0-9_]*) exit 1 ;;",
    'esac',
    // The first `config defaults` section: its options until the next `config` line.
    'value=$(awk -v want="$option" \'',
    '  function bare(w,  c) { c = substr(w, 1, 1); if ((c == q || c == "\\"") && substr(w, length(w)) == c) return substr(w, 2, length(w) - 2); return w }',
    '  BEGIN { q = sprintf("%c", 39) }',
    '  $1 == "config" { if (seen) exit; inside = bare($2) == "defaults"; if (inside) seen = 1; next }',
    '  inside && $1 == "option" && $2 == want { print bare($3); found = 1; exit }',
    '  END { if (!found) exit 1 }',
    "' /etc/config/firewall 2>/dev/null)",
    'if [ "$?" -ne 0 ]; then',
    '  [ "$quiet" -eq 1 ] || echo "uci: Entry not found" >&2',
    '  exit 1',
    'fi',
    'printf \'%s\\n\' "$value"',
    '',
  ].join('\n');
}

/**
 * firewall4's default /etc/config/firewall with software offloading switched on as LuCI and the
 * docs do it: `option flow_offloading '1'` in the `config defaults` section (its last option line).
 */
export function firewallConfig(defaultConfig: string, offload: boolean): string {
  if (!offload) return defaultConfig;
  const lines = defaultConfig.split('\n');
  const start = lines.findIndex((l) => /^config\s+defaults\b/.test(l));
  if (start < 0) throw new Error('firewall config: no config defaults section');
  let last = start;
  for (let i = start + 1; i < lines.length && !/^config\s/.test(lines[i]!); i++) {
    if (/^\s+option\s/.test(lines[i]!)) last = i;
  }
  lines.splice(last + 1, 0, "\toption flow_offloading '1'");
  return lines.join('\n');
}
