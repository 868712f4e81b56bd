// Fast paths of the router SoCs' vendor engines (issue 19): Qualcomm ECM and Shortcut-FE, MediaTek's
// mainline PPE and vendor HNAT. Sources: fixtures/offload/SOURCE.md.
import type { OffloadFinding } from '../../domain/offload-model.js';
import { count, finding, FW4_HW_DISABLE, keyValues, lines } from './offload-common.js';

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
