// `lantop demo` shows quotas act (issue 16): in the demo's temporary database, a quota on the
// busiest emulated device (the downloader, ~1.3 MB/s) small enough that it passes 80 % (a notice)
// and 100 % (a block for the rest of its 5-minute rolling window) within about a minute.
import { buildThresholds } from '../domain/quota.js';
import type { RouterModel } from '../emulator/index.js';
import type { HistoryStore } from '../store/history-store.js';
import { sanitizeText } from '../sanitize.js';

export const DEMO_QUOTA_BYTES = 60_000_000;
export const DEMO_QUOTA_MINUTES = 5;

/** Adds the demo's quota; returns the device's name (sanitised) (null: the persona has no downloader). */
export function seedDemoQuota(store: HistoryStore, routerKey: string, model: Pick<RouterModel, 'hosts'>, nowMs: number): string | null {
  const busiest = model.hosts.find((h) => h.kind === 'downloader' && !h.isVisitor) ?? null;
  if (busiest === null) return null;
  store.quotas.addQuota({
    routerKey,
    subject: { kind: 'device', identity: busiest.mac.toLowerCase() },
    limitBytes: DEMO_QUOTA_BYTES,
    direction: 'total',
    period: { kind: 'rolling', minutes: DEMO_QUOTA_MINUTES },
    thresholds: buildThresholds([80, 100], true),
    createdMs: nowMs,
  });
  return sanitizeText(busiest.hostname, 40) || busiest.mac;
}
