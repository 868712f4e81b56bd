// Fast paths of OpenWrt and the mainline kernel (issue 19): fw3's FLOWOFFLOAD rule, the uci
// options fw3 and fw4 share, nftables flowtables, and offloaded entries in conntrack. Sources:
// fixtures/offload/SOURCE.md.
import type { ConntrackEntry } from '../../domain/connection-model.js';
import type { FastPathKind, OffloadFinding } from '../../domain/offload-model.js';
import { count, finding, FW3_DISABLE, FW4_DISABLE, keyValues, lines, SEE_SETTINGS } from './offload-common.js';

// OpenWrt fw3 (openwrt/firewall3 defaults.c): the FORWARD rule "Traffic offloading" with target
// FLOWOFFLOAD, `--hw` for hardware. `iptables -S` prints `-j FLOWOFFLOAD [--hw]`; `iptables -L -v`
// prints the target and, at the end, ` FLOWOFFLOAD[ hw]` (libxt_FLOWOFFLOAD.c offload_print/save):
//   2  439 22919 FLOWOFFLOAD all -- * * 0.0.0.0/0 0.0.0.0/0 /* !fw3: Traffic offloading */ ctstate RELATED,ESTABLISHED FLOWOFFLOAD
export function parseFw3FlowOffload(text: string): OffloadFinding | null {
  const matched: string[] = [];
  let isHardware = false;
  for (const raw of lines(text)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('Chain ') || line.startsWith('num ') || line.startsWith('pkts ')) continue;
    const save = /(?:^|\s)-j FLOWOFFLOAD(?=\s|$)(.*)$/.exec(line);
    if (save) {
      if (/(?:^|\s)--hw(?=\s|$)/.test(save[1]!)) isHardware = true;
      matched.push(line);
      continue;
    }
    // -L: FLOWOFFLOAD is the target column and the target's own words end the line.
    const tokens = line.split(/\s+/);
    const last = tokens[tokens.length - 1];
    const endsHw = last === 'hw' && tokens[tokens.length - 2] === 'FLOWOFFLOAD';
    if (tokens.length > 4 && tokens.indexOf('FLOWOFFLOAD') < tokens.length - (endsHw ? 2 : 1) && (last === 'FLOWOFFLOAD' || endsHw)) {
      if (endsHw) isHardware = true;
      matched.push(line);
    }
  }
  if (matched.length === 0) return null;
  return finding(
    'openwrt-fw3-flowoffload',
    isHardware ? 'OpenWrt hardware flow offloading (fw3)' : 'OpenWrt software flow offloading (fw3)',
    'on',
    isHardware,
    matched.slice(0, 2),
    FW3_DISABLE,
  );
}

// ---------------------------------------------------------------------------------------------
// OpenWrt's uci options, shared by fw3 and fw4. The probe prints three lines:
//   sw=<uci -q get firewall.@defaults[0].flow_offloading>
//   hw=<… flow_offloading_hw>
//   fw4=<command -v fw4>
// Unset options read empty and mean 0 (fw4.uc: flow_offloading: [ "bool", "0" ]).
export function parseOpenwrtOffloadConfig(text: string): OffloadFinding | null {
  const values = keyValues(text);
  const sw = values.get('sw') ?? '';
  const hw = values.get('hw') ?? '';
  const fw4 = values.get('fw4') ?? '';
  const isFw4 = fw4 !== '';
  if (sw === '' && hw === '' && !isFw4) return null; // no uci here, or nothing to say
  const isOn = (v: string): boolean => /^(?:1|on|true|yes|enabled)$/i.test(v);
  const swOn = isOn(sw);
  const hwOn = swOn && isOn(hw); // fw4/fw3 ignore _hw unless flow_offloading is on
  const evidence = [`uci flow_offloading=${sw === '' ? '(unset)' : sw}`, `flow_offloading_hw=${hw === '' ? '(unset)' : hw}`];
  if (isFw4) evidence.push('fw4');
  const kind: FastPathKind = isFw4 ? 'openwrt-fw4-flowtable' : 'openwrt-fw3-flowoffload';
  const name = `OpenWrt ${hwOn ? 'hardware' : 'software'} flow offloading (${isFw4 ? 'fw4' : 'fw3'} settings)`;
  return finding(kind, name, swOn ? 'on' : 'off', swOn ? hwOn : null, evidence, swOn ? (isFw4 ? FW4_DISABLE : FW3_DISABLE) : null);
}

// ---------------------------------------------------------------------------------------------
// `nft list flowtables`: every flowtable, inside its table (fw4: table inet fw4, flowtable ft).
//   table inet fw4 {
//   	flowtable ft {
//   		hook ingress priority filter
//   		devices = { "br-lan", "eth1" }
//   		flags offload
//   		counter
//   	}
//   }
// `flags offload` = hardware offload; `counter` = conntrack bytes stay right (kernel ≥ 5.7).
interface Flowtable {
  where: string;
  isHardware: boolean;
  hasCounter: boolean;
  devices: string;
}

export function parseNftFlowtables(text: string): OffloadFinding | null {
  let table: string | null = null;
  let current: Flowtable | null = null;
  const flowtables: Flowtable[] = [];
  for (const raw of lines(text)) {
    const line = raw.trim();
    const t = /^table\s+(\S+)\s+(\S+)\s*\{/.exec(line);
    if (t) {
      table = `${t[1]} ${t[2]}`;
      continue;
    }
    const f = /^flowtable\s+(\S+)\s*\{/.exec(line);
    if (f) {
      current = { where: `${table ?? '?'} ${f[1]}`, isHardware: false, hasCounter: false, devices: '' };
      flowtables.push(current);
      continue;
    }
    if (current === null) continue;
    if (/^flags\b.*\boffload\b/.test(line)) current.isHardware = true;
    else if (/^counter\b/.test(line)) current.hasCounter = true;
    else if (/^devices\s*=/.test(line)) current.devices = line.replace(/^devices\s*=\s*/, '');
    else if (line.startsWith('}')) current = null;
  }
  if (flowtables.length === 0) return null;
  const isFw4 = flowtables.some((ft) => ft.where === 'inet fw4 ft');
  const isHardware = flowtables.some((ft) => ft.isHardware);
  const evidence = flowtables.slice(0, 3).map((ft) =>
    [`flowtable ${ft.where}`, ft.devices !== '' ? `devices ${ft.devices}` : '', ft.isHardware ? 'flags offload' : '', ft.hasCounter ? 'counter' : 'no counter']
      .filter((s) => s !== '')
      .join(', '),
  );
  return finding(
    isFw4 ? 'openwrt-fw4-flowtable' : 'flowtable',
    `${isFw4 ? 'OpenWrt' : 'nftables'} ${isHardware ? 'hardware' : 'software'} flow offloading (flowtable)`,
    'on',
    isHardware,
    evidence,
    isFw4 ? FW4_DISABLE : SEE_SETTINGS,
  );
}

// ---------------------------------------------------------------------------------------------
// Offloaded conntrack entries (kernel ct_seq_show prints [HW_OFFLOAD] or [OFFLOAD] instead of the
// timeout). The probe prints `sw=<grep -c -F '[OFFLOAD]'>` and `hw=<grep -c -F '[HW_OFFLOAD]'>`
// over /proc/net/nf_conntrack; both empty: the file is absent or unreadable.
export function parseConntrackOffloadCounts(text: string): OffloadFinding | null {
  const values = keyValues(text);
  const sw = count(values.get('sw'));
  const hw = count(values.get('hw'));
  if (sw === null && hw === null) return null;
  const total = (sw ?? 0) + (hw ?? 0);
  return finding(
    'conntrack-offload',
    'Offloaded connections in conntrack',
    total > 0 ? 'on' : 'off',
    total > 0 ? (hw ?? 0) > 0 : null,
    [`[OFFLOAD] entries: ${sw ?? '?'}`, `[HW_OFFLOAD] entries: ${hw ?? '?'}`],
    total > 0 ? SEE_SETTINGS : null,
  );
}

/** A finding from parsed conntrack entries (parsers/conntrack.ts) when any is offloaded. */
export function offloadFromConntrack(entries: readonly ConntrackEntry[]): OffloadFinding | null {
  let sw = 0;
  let hw = 0;
  for (const entry of entries) {
    if (entry.isHardwareOffloaded) hw++;
    else if (entry.isOffloaded) sw++;
  }
  if (sw + hw === 0) return null;
  return finding(
    'conntrack-offload',
    'Offloaded connections in conntrack',
    'on',
    hw > 0,
    [`${sw} of ${entries.length} entries [OFFLOAD]`, `${hw} [HW_OFFLOAD]`],
    SEE_SETTINGS,
  );
}
