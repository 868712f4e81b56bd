// Fast paths that skip the firewall's counters (issue 19): one pure parser per probe answer
// (router/offload-probes.ts sends the probes). Each returns an OffloadFinding, or null when the
// answer says nothing about that fast path (tool or file absent: the probes print nothing then).
// Router text is hostile: it reaches a finding only through sanitizeText, as one line.
// Sources of every format: fixtures/offload/SOURCE.md. The parsers live per vendor
// (offload-broadcom.ts, offload-openwrt.ts, offload-soc.ts, helpers in offload-common.ts); this
// module gives them all, and merges the findings into the report.
import type { FastPathKind, OffloadFinding, OffloadReport } from '../../domain/offload-model.js';
import { sanitizeText } from '../../sanitize.js';
import { EVIDENCE_MAX } from './offload-common.js';

export { parseBroadcomCtf, parseDdwrtSfe, parseFcctlStatus } from './offload-broadcom.js';
export { offloadFromConntrack, parseConntrackOffloadCounts, parseFw3FlowOffload, parseNftFlowtables, parseOpenwrtOffloadConfig } from './offload-openwrt.js';
export { parseEcmState, parseMediatekHnat, parseMediatekPpeBind, parseSfeSysfs } from './offload-soc.js';

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
