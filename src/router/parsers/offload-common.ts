// What the per-vendor offload parsers (offload-broadcom.ts, offload-openwrt.ts, offload-soc.ts)
// share: reading the probes' answers (lines, `key=value`, counts), one display-safe evidence line
// and the firmware's own ways to turn offloading off. Pure.
import type { FastPathKind, OffloadFinding } from '../../domain/offload-model.js';
import { sanitizeText } from '../../sanitize.js';

export const EVIDENCE_MAX = 240;
export const SEE_SETTINGS = "see the firmware's settings";

// fw4 and fw3 read the same uci options (openwrt/firewall4 fw4.uc, openwrt/firewall3 defaults.c).
const UCI_OFFLOAD_OFF =
  'uci set firewall.@defaults[0].flow_offloading=0; uci set firewall.@defaults[0].flow_offloading_hw=0; uci commit firewall';
export const FW4_DISABLE = `${UCI_OFFLOAD_OFF}; fw4 reload`;
export const FW3_DISABLE = `${UCI_OFFLOAD_OFF}; /etc/init.d/firewall restart`;
export const FW4_HW_DISABLE = 'uci set firewall.@defaults[0].flow_offloading_hw=0; uci commit firewall; fw4 reload';

export function lines(text: string): string[] {
  return text.split(/\r?\n|\r/);
}

/** One display-safe line from the router's own words. */
function evidenceOf(parts: string[]): string {
  const joined = parts.map((p) => p.trim().replace(/\s+/g, ' ')).filter((p) => p !== '').join(' | ');
  return sanitizeText(joined, EVIDENCE_MAX);
}

export function finding(
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
export function keyValues(text: string): Map<string, string> {
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
export function count(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null;
  return Number(value);
}
