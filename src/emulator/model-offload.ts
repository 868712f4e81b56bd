// What the emulated router says about flow offload (issue 19; the option `offload`): Broadcom's
// `fcctl` (status, enable, disable, flush, as the SDK's fcctl_cmds.c prints them), and on OpenWrt fw4
// the flowtable firewall4 writes when `flow_offloading` is set (its ruleset.uc) as nft lists it
// (src/rule.c flowtable_print_declaration) plus the uci option. The traffic side (later packets
// bypassing the chains) is model-conntrack.ts. Sources: testdata/SOURCE.md ("Flow offload"). Pure.

import type { RouterModel } from './model.js';
import { offloadedCount } from './model-conntrack.js';

export interface ProgramOutput {
  stdout: string;
  stderr: string;
  status: number;
}

// fcctl_cmds.c Usage(), with PKTCMF_AVAIL and CC_CONFIG_FCACHE_DEBUG unset.
const FCCTL_USAGE =
  'Flow Cache Control Utility:\n\nProc FileSystem: /proc/fcache \n\n::: Usage:\n\n:::::: Flow Cache SW System :\n' +
  '       fc status\n       fc enable\n       fc disable\n       fc flush\n' +
  '              - Flush all flows or flows matching any combination of:\n' +
  '                      [ --if   <interface> ]\n                    | [ --flow <flowid>    ]\n' +
  '                    | [ <--mac | --dstmac | --srcmac> <macaddr> ]\n' +
  '       fc resetstats\n       fc flwstats <cmd>\n           fc flwstats n <field> <value> [<field> <value> ]\n' +
  '              - Create new query where <field> is one of the following:\n' +
  '                 srcv4, rxdstv4, dstv4, srcv6, dstv6, srcport, dstport,\n' +
  '                 srcipver, dstipver, proto, invid, outvid,\n' +
  '                 dstmac, srcmac, inrxdstmac(l2gre), inrxsrcmac(l2gre),\n' +
  '                 intxdstmac(l2gre), intxsrcmac(l2gre), srcphy, dstphy\n' +
  '           fc flwstats g <id>  - Get results for query <id>.\n           fc flwstats d <id>  - Delete query <id>.\n' +
  '           fc flwstats c <id>  - Clear counters on query <id>.\n           fc flwstats p       - Print out all active queries.\n' +
  '       fc config\n                    | [ --accel-mode <0|1>   ]\n                    | [ --timer   <ms>       ]\n' +
  '                    | [ --mcast   <0|1|2|3>  ]\n                    | [ --mcast-learn <0|1>  ]\n' +
  '                    | [ --ipv6    <0|1>      ]\n                    | [ --gre     <0|1|2>    ]\n' +
  '                    | [ --l2tp    <0|1|2>    ]\n\n       fc dump [ --flow <flowid> ]\n';

/** FCACHE_DEF_MAX_ENTRIES of fcache.h; the flow timer is FCACHE_REFRESH (1 s) without RDPA (BCM6328). */
const FCACHE_MAX_ENTRIES = 256;

/** `fcctl …` on the Broadcom flavour. */
export function runFcctl(model: RouterModel, args: readonly string[]): ProgramOutput {
  const [command, ...rest] = args;
  switch (command) {
    case undefined:
      return { stdout: FCCTL_USAGE, stderr: '', status: 0 };
    case 'status': {
      const ct = model.conntrack;
      const isOn = model.offload === 'on';
      const stdout =
        '\tFlow Timer Interval = 1000 millisecs\n\tPkt-HW Activate Deferral = 1\n\tPkt-HW Idle Deactivate = 0\n' +
        '\tAcceleration Mode: <L3>\n\tMCast Learning <Enabled>\n\tMCast Acceleration IPv4<Enabled> IPv6<Enabled>\n' +
        '\tIPv6 Learning <Enabled>\n\tGRE Learning <Disabled> Mode<PassThru>\n' +
        `\tFlow Learning ${isOn ? 'Enabled' : 'Disabled'} : Max<${FCACHE_MAX_ENTRIES}>, Active<${offloadedCount(model)}>, Cummulative [ ${ct.offloadInserted} - ${ct.offloadRemoved} ]\n`;
      return { stdout, stderr: '', status: 0 };
    }
    case 'enable':
      model.offload = 'on';
      return { stdout: 'Broadcom Packet Flow Cache learning via BLOG enabled.\n', stderr: '', status: 0 };
    case 'disable':
      // Disabling flushes the cache: every flow goes back through the firewall.
      model.offload = 'off';
      flushFlows(model, null);
      return { stdout: 'Broadcom Packet Flow Cache learning via BLOG disabled.\n', stderr: '', status: 0 };
    case 'flush': {
      let mac: string | null = null;
      let macLine = '';
      for (let i = 0; i < rest.length; i++) {
        const option = rest[i] as string;
        const value = rest[i + 1];
        if ((option === '--mac' || option === '--srcmac' || option === '--dstmac') && value !== undefined) {
          if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(value)) {
            return { stdout: `ERROR:  Please express '${value}' in MAC address format xx:xx:xx:xx:xx:xx\n`, stderr: '', status: 1 };
          }
          mac = value.toLowerCase();
          macLine = option === '--dstmac' ? `dst mac ${mac}\n` : `src mac ${mac}\n`;
          i++;
        } else if (option === '--if' || option === '--flow') i++;
        else return { stdout: '', stderr: `fcctl: invalid option [${option}]\n`, status: 1 };
      }
      flushFlows(model, mac);
      return { stdout: `Broadcom Packet Flow Cache flushing the flows\n${macLine}`, stderr: '\n', status: 0 };
    }
    default:
      return { stdout: '', stderr: 'fcctl: invalid command\n', status: 1 };
  }
}

/** Drops flows from the fast path (all, or one host's): their next packets go through the chains again. */
export function flushFlows(model: RouterModel, mac: string | null): void {
  for (const connection of model.conntrack.connections) {
    if (!connection.isOffloaded || (mac !== null && connection.hostMac !== mac)) continue;
    connection.isOffloaded = false;
    connection.firewallPackets = 0;
    model.conntrack.offloadRemoved++;
  }
}

/** `uci -q get firewall.@defaults[0].flow_offloading` (and `firewall.defaults.…`): set only when on. */
export function uciOffloadValue(model: RouterModel, key: string): string | null {
  if (!/^firewall\.(@defaults\[0\]|@defaults\[-1\])\.flow_offloading$/.test(key)) return null;
  return model.offload === 'on' ? '1' : null;
}

/** firewall4's flowtable as nft 1.0.x lists it (hook priority 0 is `filter` on netdev; devices quoted). */
export function fw4FlowtableText(model: RouterModel): string {
  return `\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { "${model.lanInterface}", "wan" }\n\t\tcounter\n\t}\n`;
}

const FLOW_RULE = '\t\tmeta l4proto { tcp, udp } flow add @ft\n';

/**
 * Adds the flowtable and fw4's `flow offload @ft` rule to a text listing of `table inet fw4` (the
 * emulated nft has no flowtables). nft prints a table's sets, then its flowtables, then its chains,
 * a blank line between items; the rule opens the forward chain.
 */
export function withFw4Flowtable(model: RouterModel, listing: string): string {
  const start = listing.indexOf('table inet fw4 {\n');
  if (start < 0) return listing;
  const chainAt = listing.indexOf('\n\tchain ', start);
  if (chainAt < 0) return listing;
  const isAfterItem = listing[chainAt - 1] === '\n' && chainAt - 1 > start + 'table inet fw4 {'.length;
  let out = isAfterItem
    ? `${listing.slice(0, chainAt)}\n${fw4FlowtableText(model)}${listing.slice(chainAt)}`
    : `${listing.slice(0, chainAt + 1)}${fw4FlowtableText(model)}\n${listing.slice(chainAt + 1)}`;
  const forward = out.indexOf('\tchain forward {\n', start);
  if (forward >= 0) {
    const hookLineEnd = out.indexOf('\n', out.indexOf('\t\ttype filter hook forward', forward));
    if (hookLineEnd > 0) out = `${out.slice(0, hookLineEnd + 1)}${FLOW_RULE}${out.slice(hookLineEnd + 1)}`;
  }
  return out;
}

/** `nft list flowtables` with offload on: every table, fw4's with its flowtable (do_list_flowtables). */
export function listFlowtables(model: RouterModel, tables: readonly string[]): string {
  return tables.map((table) => `table ${table} {\n${table === 'inet fw4' && model.offload === 'on' ? fw4FlowtableText(model) : ''}}\n`).join('');
}
