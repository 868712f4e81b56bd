// Fast paths that skip the firewall's counters (issue 19): what lantop found on the router and
// what it means for the numbers. Pure data; router/offload-probes.ts reads them.

export type FastPathKind =
  | 'broadcom-fcache'
  | 'broadcom-ctf'
  | 'openwrt-fw3-flowoffload'
  | 'openwrt-fw4-flowtable'
  | 'flowtable'
  | 'conntrack-offload'
  | 'qualcomm-ecm'
  | 'qualcomm-sfe'
  | 'mediatek-ppe'
  | 'mediatek-hnat';

export interface OffloadFinding {
  kind: FastPathKind;
  /** For people: "Broadcom flow cache (fcctl)", "OpenWrt software flow offloading". */
  name: string;
  state: 'on' | 'off' | 'unknown';
  /** Hardware offload (counters may freeze even in conntrack); null: not told. */
  isHardware: boolean | null;
  /** What the router answered that decided it (sanitised, one line). */
  evidence: string;
  /** The firmware's own way to turn it off, for people; lantop never runs it unasked. */
  howToDisable: string | null;
}

export interface OffloadReport {
  findings: OffloadFinding[];
  /** Some fast path is on: per-device counters undercount. */
  isOn: boolean;
  /** What it means for the numbers, one display-safe sentence; null when nothing is on. */
  warning: string | null;
  checkedAtMs: number;
}
