// Pure: the live screen's quota column (issue 16) — per host the quota nearest its limit (its own
// or a person's it belongs to): a bar, the percent used, what is left and the time to reset; a
// blocked host shows BLOCKED and when it lifts. Line quotas apply to every row, so they go in the
// title instead. From the snapshot's quota state (the enforcer's last run): no database per frame.
import type { QuotaUsageView, Snapshot } from '../../domain/snapshot.js';
import { formatBytes } from '../../output/units.js';
import { shareBar } from '../sparkline.js';

/** `4m`, `3h`, `12d`: a short time until `ms` from `nowMs`. */
export function shortTimeLeft(ms: number, nowMs: number): string {
  const left = Math.max(0, ms - nowMs);
  const minutes = Math.ceil(left / 60_000);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours}h` : `${Math.round(hours / 24)}d`;
}

function quotaCell(q: QuotaUsageView, nowMs: number): string {
  const percent = `${Math.min(999, Math.floor(q.percent))}%`.padStart(4);
  const reset = q.resetMs === null ? '' : ` ↻${shortTimeLeft(q.resetMs, nowMs)}`;
  return `${shareBar(q.percent / 100, 5, '░')} ${percent} ${formatBytes(q.leftBytes)} left${reset}`;
}

/** identity → the quota cell of its row; empty without quotas. */
export function quotaCells(snapshot: Snapshot): Map<string, string> {
  const cells = new Map<string, string>();
  const quotas = snapshot.quotas ?? [];
  if (quotas.length === 0) return cells;
  const nearest = new Map<string, QuotaUsageView>();
  for (const q of quotas) {
    for (const identity of q.identities) {
      const seen = nearest.get(identity);
      if (seen === undefined || q.percent > seen.percent) nearest.set(identity, q);
    }
  }
  for (const host of snapshot.hosts) {
    if (host.blockedUntilMs !== undefined && host.blockedUntilMs !== null) {
      cells.set(host.identity, `BLOCKED ${shortTimeLeft(host.blockedUntilMs, snapshot.atMs)} left`);
      continue;
    }
    const q = nearest.get(host.identity);
    if (q) cells.set(host.identity, quotaCell(q, snapshot.atMs));
  }
  return cells;
}

/** The line quotas in a few words for the title ("line 45% ↻3h"); '' without. */
export function lineQuotaText(snapshot: Snapshot): string {
  const lines = (snapshot.quotas ?? []).filter((q) => q.subject.kind === 'line');
  return lines.map((q) => `line quota ${Math.floor(q.percent)}%${q.resetMs === null ? '' : ` ↻${shortTimeLeft(q.resetMs, snapshot.atMs)}`}`).join(' · ');
}

/** Does the quota column show (the router has quotas on devices or persons)? */
export function hasQuotaColumn(snapshot: Snapshot | null): boolean {
  return snapshot !== null && ((snapshot.quotas ?? []).some((q) => q.subject.kind !== 'line') || snapshot.hosts.some((h) => h.blockedUntilMs != null));
}
