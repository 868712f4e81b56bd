// Fast paths that skip the firewall's counters (issue 19): one pure parser per probe answer
// (router/offload-probes.ts sends the probes). Each returns an OffloadFinding, or null when the
// answer says nothing about that fast path (tool or file absent: the probes print nothing then).
// Router text is hostile: it reaches a finding only through sanitizeText, as one line.
// Sources of every format: fixtures/offload/SOURCE.md.
import type { ConntrackEntry } from '../../domain/connection-model.js';
import type { FastPathKind, OffloadFinding, OffloadReport } from '../../domain/offload-model.js';
import { sanitizeText } from '../../sanitize.js';

const EVIDENCE_MAX = 240;
const SEE_SETTINGS = "see the firmware's settings";

// fw4 and fw3 read the same uci options (openwrt/firewall4 fw4.uc, openwrt/firewall3 defaults.c).
const UCI_OFFLOAD_OFF =
  'uci set firewall.@defaults[0].flow_offloading=0; uci set firewall.@defaults[0].flow_offloading_hw=0; uci commit firewall';
const FW4_DISABLE = `${UCI_OFFLOAD_OFF}; fw4 reload`;
const FW3_DISABLE = `${UCI_OFFLOAD_OFF}; /etc/init.d/firewall restart`;
const FW4_HW_DISABLE = 'uci set firewall.@defaults[0].flow_offloading_hw=0; uci commit firewall; fw4 reload';

function lines(text: string): string[] {
  return text.split(/\r?\n|\r/);
}

/** One display-safe line from the router's own words. */
function evidenceOf(parts: string[]): string {
  const joined = parts.map((p) => p.trim().replace(/\s+/g, ' ')).filter((p) => p !== '').join(' | ');
  return sanitizeText(joined, EVIDENCE_MAX);
}

function finding(
  kind: FastPathKind,
  name: string,
  state: OffloadFinding['state'],
  isHardware: boolean | null,
  evidence: string[],
  howToDisable: string | null,
): OffloadFinding {
  return { kind, name, state, isHardware, evidence: evidenceOf(evidence), howToDisable };
}

/** `key=value` lines (the probes print them); the first occurrence wins, values trimmed. */
function keyValues(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const raw of lines(text)) {
    const line = raw.trim();
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    // `$(…)` or a backquote left as printed: a shell that did not run the substitution (an echo of
    // the probe, a restricted shell), which is no answer at all.
    if (/\$\(|`/.test(value)) continue;
    if (!map.has(key)) map.set(key, value);
  }
  return map;
}

/** A non-negative decimal count, or null (BusyBox grep -c prints one per file). */
function count(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}

// ---------------------------------------------------------------------------------------------
// Broadcom flow cache. `fcctl status` (weihutaisui/BCM …/fcctl/fcctl_cmds.c, fcCtlStatusHandler):
//   	Acceleration Mode: <L3>
//   	Flow Learning Enabled : Max<4096>, Active<12>, Cummulative [ 340 - 328 ]
// Newer SDKs (`fc status`) also print `HW Acceleration <Enabled>` and `Flow Ucast Learning: …`.
export function parseFcctlStatus(text: string): OffloadFinding | null {
  let learning: 'on' | 'off' | null = null;
  let isHardware: boolean | null = null;
  let isFcctl = false;
  const evidence: string[] = [];
  for (const raw of lines(text)) {
    const line = raw.trim();
    const flow = /^Flow (?:Ucast )?Learning:?\s*(Enabled|Disabled)?\b(.*)$/i.exec(line);
    if (flow) {
      isFcctl = true;
      if (flow[1] !== undefined && learning === null) learning = /^enabled$/i.test(flow[1]) ? 'on' : 'off';
      const active = /Active\s*<\s*(\d+)\s*>/i.exec(line);
      evidence.push(active ? `${line.split(':')[0]!.trim()} Active<${active[1]}>` : line);
      continue;
    }
    const hw = /HW Acceleration\s*<\s*(Enabled|Disabled)\s*>/i.exec(line);
    if (hw) {
      isFcctl = true;
      isHardware = /^enabled$/i.test(hw[1]!);
      evidence.push(`HW Acceleration <${hw[1]}>`);
      continue;
    }
    if (/^(?:Flow Timer Interval|Acceleration Mode:|Pkt-HW )/i.test(line)) isFcctl = true;
  }
  if (!isFcctl) return null;
  const state = learning ?? (isHardware === true ? 'on' : 'unknown');
  return finding(
    'broadcom-fcache',
    'Broadcom flow cache (fcctl)',
    state,
    isHardware,
    evidence.length > 0 ? evidence : ['fcctl status answered without a Flow Learning line'],
    'fcctl disable, then fcctl flush to drop the flows already cached (the tool is `fc` on newer SDKs)',
  );
}

// ---------------------------------------------------------------------------------------------
// Broadcom CTF (cut-through forwarding, ctf.ko). The probe prints `ctf_disable=<nvram>` and, when
// the module's proc entry exists, the line `/proc/ctf`. Broadcom's rc loads ctf at boot unless
// ctf_disable=1 (`if (!nvram_match("ctf_disable", "1")) eval("insmod", "ctf")`).
export function parseBroadcomCtf(text: string): OffloadFinding | null {
  const values = keyValues(text);
  const disable = values.get('ctf_disable');
  const hasProc = lines(text).some((l) => l.trim() === '/proc/ctf');
  const evidence: string[] = [];
  if (disable !== undefined && disable !== '') evidence.push(`nvram ctf_disable=${disable}`);
  if (hasProc) evidence.push('/proc/ctf present');
  let state: OffloadFinding['state'];
  if (disable === '1') state = hasProc ? 'unknown' : 'off';
  else if (disable === '0') state = 'on';
  else if (hasProc) state = 'unknown';
  else return null;
  return finding(
    'broadcom-ctf',
    'Broadcom cut-through forwarding (CTF)',
    state,
    null,
    evidence,
    'nvram set ctf_disable=1; nvram commit; reboot (the ctf module is loaded at boot)',
  );
}

// ---------------------------------------------------------------------------------------------
// DD-WRT's engine selector `nvram get sfe` (mirror/dd-wrt src/router/services/services/sfe.c,
// start_sfe): 1 = Shortcut-FE, 2 = Broadcom CTF (/proc/ctf), 3 = ECM with NSS, 4 = ECM with
// NSS-SFE, 5 = ECM with SFE and NSS; anything else stops them all. The probe prints `sfe=<value>`.
const DDWRT_DISABLE = 'nvram set sfe=0; nvram commit; reboot (start_sfe then unloads the engines)';
export function parseDdwrtSfe(text: string): OffloadFinding | null {
  const value = keyValues(text).get('sfe');
  if (value === undefined || value === '') return null;
  const evidence = [`nvram sfe=${value}`];
  switch (value) {
    case '1':
      return finding('qualcomm-sfe', 'Shortcut forwarding engine (SFE, DD-WRT)', 'on', false, evidence, DDWRT_DISABLE);
    case '2':
      return finding('broadcom-ctf', 'Broadcom cut-through forwarding (CTF, DD-WRT)', 'on', null, evidence, DDWRT_DISABLE);
    case '3':
      return finding('qualcomm-ecm', 'Qualcomm ECM with NSS (DD-WRT)', 'on', true, evidence, DDWRT_DISABLE);
    case '4':
      return finding('qualcomm-ecm', 'Qualcomm ECM with NSS-SFE (DD-WRT)', 'on', false, evidence, DDWRT_DISABLE);
    case '5':
      return finding('qualcomm-ecm', 'Qualcomm ECM with SFE and NSS (DD-WRT)', 'on', true, evidence, DDWRT_DISABLE);
    case '0':
      return finding('qualcomm-sfe', 'DD-WRT fast path (nvram sfe)', 'off', null, evidence, null);
    default:
      return finding('qualcomm-sfe', 'DD-WRT fast path (nvram sfe)', 'unknown', null, evidence, SEE_SETTINGS);
  }
}

// ---------------------------------------------------------------------------------------------
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
    isFw4 ? 'openwrt-fw4-flowtable' : 'nft-flowtable',
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

// ---------------------------------------------------------------------------------------------
// Qualcomm ECM (mirror/dd-wrt src/router/qca/qca-nss-ecm-standard: ecm_front_end_ipv4.c
// debugfs_create_u32("front_end_ipv4_stop"), frontends/nss/ecm_nss_ipv4.c "accelerated_count";
// older ECM: sysctl /proc/sys/net/ecm/front_end_ipv4_stop). debugfs u32 files read "%llu\n".
// The probe prints `<path>=<value>` for each readable file.
const ECM_DISABLE =
  'echo 1 > /sys/kernel/debug/ecm/front_end_ipv4_stop; echo 1 > /sys/kernel/debug/ecm/front_end_ipv6_stop; echo 1 > /sys/kernel/debug/ecm/ecm_db/defunct_all (stops new accelerations, then drops the current ones)';
export function parseEcmState(text: string): OffloadFinding | null {
  let stop: number | null = null;
  let hwCount = 0;
  let swCount = 0;
  let hasCounts = false;
  let hasNss = false;
  const evidence: string[] = [];
  for (const [key, value] of keyValues(text)) {
    const n = count(value);
    if (n === null) continue;
    const file = key.split('/').slice(-2).join('/');
    if (/front_end_ipv4_stop$/.test(key)) {
      if (stop === null) stop = n;
      evidence.push(`${file}=${n}`);
    } else if (/accelerated_count$/.test(key)) {
      hasCounts = true;
      if (/ecm_sfe_/.test(key)) swCount += n;
      else {
        hwCount += n;
        if (/ecm_nss_/.test(key)) hasNss = true;
      }
      evidence.push(`${file}=${n}`);
    }
  }
  if (stop === null && !hasCounts) return null;
  const accelerated = hwCount + swCount;
  let state: OffloadFinding['state'];
  if (accelerated > 0) state = 'on';
  else if (stop === 0) state = 'on';
  else if (stop === 1) state = 'off';
  else state = 'unknown';
  const isHardware = hwCount > 0 || hasNss ? true : swCount > 0 ? false : null;
  return finding('qualcomm-ecm', 'Qualcomm ECM acceleration (NSS/SFE)', state, isHardware, evidence, state === 'off' ? null : ECM_DISABLE);
}

// ---------------------------------------------------------------------------------------------
// Shortcut-FE: its modules create /sys/fast_classifier (fast-classifier) and /sys/sfe_ipv4,
// /sys/sfe_ipv6 (shortcut-fe). The probe `ls -d`s them; a listed directory = module loaded.
export function parseSfeSysfs(text: string): OffloadFinding | null {
  const present = lines(text)
    .map((l) => l.trim())
    .filter((l) => /^\/sys\/(?:fast_classifier|sfe_ipv4|sfe_ipv6)\/?$/.test(l));
  if (present.length === 0) return null;
  return finding(
    'qualcomm-sfe',
    'Shortcut forwarding engine (SFE)',
    'on',
    false,
    present.map((p) => `${p} present`),
    "rmmod fast-classifier; rmmod shortcut-fe-ipv6; rmmod shortcut-fe (what DD-WRT's stop_sfe does), or see the firmware's settings",
  );
}

// ---------------------------------------------------------------------------------------------
// MediaTek mainline PPE (torvalds/linux drivers/net/ethernet/mediatek/mtk_ppe_debugfs.c): the
// debugfs file `bind` lists bound (BND) entries, one a line:
//   00a5c BND IPv4 5T orig=198.51.100.10:51000->203.0.113.1:443 new=… eth=…->… etype=0800 vlan=0,0 ib1=… ib2=…
// The probe runs `grep -c BND` over ppe0/bind, ppe1/bind and the older mtk_ppe/bind, so the answer
// is `path:count` per file present (BusyBox and GNU grep prefix names when given several files).
export function parseMediatekPpeBind(text: string): OffloadFinding | null {
  let total = 0;
  let seen = 0;
  const evidence: string[] = [];
  for (const raw of lines(text)) {
    const m = /^(?:(\/sys\/kernel\/debug\/[\w/]+):)?(\d{1,9})$/.exec(raw.trim());
    if (!m) continue;
    seen++;
    total += Number(m[2]);
    evidence.push(`${m[1] ?? 'bind'}: ${m[2]} bound`);
  }
  if (seen === 0) return null;
  return finding(
    'mediatek-ppe',
    'MediaTek PPE hardware offload',
    total > 0 ? 'on' : 'off',
    true,
    evidence,
    total > 0 ? FW4_HW_DISABLE : null,
  );
}

// ---------------------------------------------------------------------------------------------
// MediaTek vendor HNAT (mtk_hnat/hnat_debugfs.c, e.g. hanwckf/immortalwrt-mt798x): all_entry
// prints `…|state=BIND|…` per entry; reading hook_toggle prints nothing to the file but logs
// `value=%d, hook is %s now!` (pr_info). The probe prints `hnat=present`, `bind=<grep -c
// state=BIND all_entry>` and the last such kernel-log line.
export function parseMediatekHnat(text: string): OffloadFinding | null {
  const values = keyValues(text);
  if (values.get('hnat') !== 'present') return null;
  const bound = count(values.get('bind'));
  let hook: 'on' | 'off' | null = null;
  let hookLine = '';
  for (const raw of lines(text)) {
    const m = /value=(\d+), hook is (enabled|disabled) now/.exec(raw);
    if (m) {
      hook = m[2] === 'enabled' ? 'on' : 'off';
      hookLine = `hook_toggle: value=${m[1]}, hook is ${m[2]}`;
    }
  }
  const evidence = ['/sys/kernel/debug/hnat present'];
  if (bound !== null) evidence.push(`all_entry: ${bound} state=BIND`);
  if (hookLine !== '') evidence.push(hookLine);
  let state: OffloadFinding['state'];
  if ((bound ?? 0) > 0 || hook === 'on') state = 'on';
  else if (hook === 'off') state = 'off';
  else state = 'unknown';
  return finding('mediatek-hnat', 'MediaTek HNAT hardware offload', state, true, evidence, state === 'off' ? null : 'echo 0 > /sys/kernel/debug/hnat/hook_toggle');
}

// ---------------------------------------------------------------------------------------------
const STATE_RANK: Record<OffloadFinding['state'], number> = { on: 2, unknown: 1, off: 0 };

/** Findings of the same kind (uci settings and the live flowtable, say) become one. */
export function mergeFindings(findings: readonly OffloadFinding[]): OffloadFinding[] {
  const byKind = new Map<FastPathKind, OffloadFinding>();
  for (const f of findings) {
    const prior = byKind.get(f.kind);
    if (!prior) {
      byKind.set(f.kind, { ...f });
      continue;
    }
    const winner = STATE_RANK[f.state] > STATE_RANK[prior.state] ? f : prior;
    byKind.set(f.kind, {
      kind: f.kind,
      name: winner.name,
      state: winner.state,
      isHardware: prior.isHardware === true || f.isHardware === true ? true : (winner.isHardware ?? prior.isHardware ?? f.isHardware),
      evidence: sanitizeText([prior.evidence, f.evidence].filter((e) => e !== '').join('; '), EVIDENCE_MAX),
      howToDisable: winner.howToDisable ?? prior.howToDisable ?? f.howToDisable,
    });
  }
  return [...byKind.values()];
}

/** What the findings mean for the numbers: one sentence, or null when nothing is on. */
export function offloadWarning(findings: readonly OffloadFinding[]): string | null {
  const on = findings.filter((f) => f.state === 'on');
  if (on.length === 0) return null;
  const names = on.map((f) => f.name).join(', ');
  if (on.some((f) => f.isHardware === true)) {
    return sanitizeText(
      `Hardware offload is on (${names}): packets it forwards skip the firewall, so per-device counters miss them, and conntrack bytes and even the WAN interface counters may read low too.`,
      400,
    );
  }
  return sanitizeText(
    `A fast path is on (${names}): offloaded packets skip the firewall's counters, so per-device counters read low; conntrack bytes stay right under OpenWrt's software offload (23.05+, flowtable counter), not under hardware offload.`,
    400,
  );
}

export function offloadReport(findings: readonly OffloadFinding[], checkedAtMs: number): OffloadReport {
  const merged = mergeFindings(findings);
  return { findings: merged, isOn: merged.some((f) => f.state === 'on'), warning: offloadWarning(merged), checkedAtMs };
}
