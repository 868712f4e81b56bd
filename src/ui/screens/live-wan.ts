// Pure: what the live screen says about the numbers themselves (issue 19) — how much of the WAN's
// traffic the per-device counters saw ("accounted ↓97% ↑99%" on the totals row), and a warning
// that stays while a fast path (flow offload, a vendor flow cache) skips the counters.
import type { Snapshot } from '../../domain/snapshot.js';
import { sanitizeText } from '../../sanitize.js';

const percentText = (share: number | null): string => (share === null || !Number.isFinite(share) ? '–' : `${Math.floor(Math.max(0, share) * 100)}%`);

/**
 * "accounted ↓97% ↑99%": the last minute's share per direction, else the share since lantop
 * started watching; '' when neither direction has one yet (or the WAN was not read). Floored, so
 * "100%" means nothing was missed.
 */
export function accountedText(snapshot: Snapshot | null): string {
  const wan = snapshot?.wan;
  if (!wan) return '';
  const down = wan.recentAccountedShare?.down ?? wan.accountedShare?.down ?? null;
  const up = wan.recentAccountedShare?.up ?? wan.accountedShare?.up ?? null;
  if (down === null && up === null) return '';
  return `accounted ↓${percentText(down)} ↑${percentText(up)}`;
}

const DEFAULT_WARNING = 'A fast path on the router skips the firewall counters: per-device numbers undercount.';

/** The offload warning line's text while a fast path is on ("⚠ NAME: WARNING", router text sanitised), else null. */
export function offloadWarningText(snapshot: Snapshot | null): string | null {
  const offload = snapshot?.offload;
  if (!offload?.isOn) return null;
  const warning = offload.warning === null ? DEFAULT_WARNING : sanitizeText(offload.warning, 300).trim() || DEFAULT_WARNING;
  const finding = offload.findings.find((f) => f.state === 'on') ?? offload.findings[0];
  const name = finding ? sanitizeText(finding.name, 80).trim() : '';
  // The report's own sentence names what is on near its start ("A fast path is on (NAME): …"), so
  // at 80 columns the name survives the cut; without a sentence, the name first.
  if (offload.warning !== null && warning !== DEFAULT_WARNING && (name === '' || warning.includes(name))) return `⚠ ${warning}`;
  return `⚠ ${name ? `${name}: ` : ''}${warning}`;
}
