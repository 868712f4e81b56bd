// Quotas against the history, now (issue 16): each quota's window (domain/quota.ts), the bytes its
// subject moved in it (QuotaStore.usageOf over the history samples) and the evaluation. `quota list`
// uses it; so can the poll loop and the app, which then record each new crossing once
// (QuotaStore.recordCrossing).

import { bytesInDirection, evaluateQuota, quotaWindow, rollingResetMs, type Quota, type QuotaUsage } from '../domain/quota.js';
import { systemZone, type LocalZone } from '../domain/periods.js';
import type { QuotaStore } from '../store/quota-store.js';

/**
 * The usage of each quota at `nowMs`. `routerId` null (no history for the router yet) counts 0.
 * A rolling quota's reset is when its oldest counted bytes leave the window (null with none).
 */
export function evaluateQuotas(store: QuotaStore, routerId: number | null, quotas: readonly Quota[], nowMs: number, zone: LocalZone = systemZone): QuotaUsage[] {
  return quotas.map((quota) => {
    const window = quotaWindow(quota.period, nowMs, zone);
    if (routerId === null) return evaluateQuota(quota, 0, window);
    const identities = store.identitiesOf(quota);
    const used = bytesInDirection(quota.direction, store.usageOf(routerId, identities, window.startMs, window.endMs));
    if (quota.period.kind !== 'rolling') return evaluateQuota(quota, used, window);
    const oldestMs = store.oldestUsageMs(routerId, identities, quota.direction, window.startMs, window.endMs);
    const resetMs = rollingResetMs(quota.period, window, oldestMs === null ? [] : [{ atMs: oldestMs, bytes: 1 }]);
    return evaluateQuota(quota, used, { ...window, resetMs });
  });
}
