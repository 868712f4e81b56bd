// Fast paths on nvram firmwares (issue 19): Broadcom's flow cache (fcctl) and cut-through
// forwarding (CTF), and DD-WRT's nvram engine selector. Sources: fixtures/offload/SOURCE.md.
import type { OffloadFinding } from '../../domain/offload-model.js';
import { finding, keyValues, lines, SEE_SETTINGS } from './offload-common.js';

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
