// The app's Quotas screen behind the RouterController (issue 16): the quotas with their usage now,
// whom a quota can be on (the line, the persons, the devices the history knows), the blocks and
// the audit log; adding, editing and removing quotas. Names are router text: sanitised here.
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { buildThresholds, checkQuotaPeriod, MAX_QUOTA_BYTES, QUOTA_DIRECTIONS, type Quota } from '../domain/quota.js';
import type { HistoryStore } from '../store/history-store.js';
import type { QuotaEnforcer } from './quota-enforcer.js';
import { describeHost, nameOfIdentity } from './quota-subjects.js';
import type { QuotaInput, QuotasView, QuotaSubjectChoice } from './types.js';

const AUDIT_ROWS = 50;

export function quotaInputOf(quota: Quota): QuotaInput {
  return {
    subject: quota.subject,
    limitBytes: quota.limitBytes,
    direction: quota.direction,
    period: quota.period,
    notifyPercents: quota.thresholds.filter((t) => t.notify).map((t) => t.percent),
    block: quota.thresholds.some((t) => t.block),
  };
}

export async function loadQuotasView(store: HistoryStore, key: string, enforcer: QuotaEnforcer): Promise<QuotasView> {
  const views = await enforcer.evaluate();
  const byId = new Map(views.map((v) => [v.id, v]));
  const routerId = store.findRouter(key);
  const hosts = routerId === null ? [] : store.quotas.knownHosts(routerId);
  const quotas = store.quotas.listQuotas(key).flatMap((quota) => {
    const usage = byId.get(quota.id);
    return usage ? [{ usage, input: quotaInputOf(quota), thresholds: quota.thresholds }] : [];
  });
  const subjects: QuotaSubjectChoice[] = [
    { subject: { kind: 'line' }, label: 'whole line (every device)' },
    ...store.quotas.listPersons(key).map((p): QuotaSubjectChoice => ({ subject: { kind: 'person', name: p.name }, label: `${sanitizeText(p.name, 40)} (person, ${p.identities.length} device${p.identities.length === 1 ? '' : 's'})` })),
    ...hosts.map((h): QuotaSubjectChoice => ({ subject: { kind: 'device', identity: h.identity }, label: describeHost(h) })),
  ];
  const blocks = enforcer.currentBlocks().map((b) => ({ ...b, name: nameOfIdentity(b.identity, hosts) }));
  const audit = store.quotas.listAudit(key, { limit: AUDIT_ROWS }).map((a) => ({
    atMs: a.atMs,
    action: a.action,
    name: nameOfIdentity(a.identity, hosts),
    reason: sanitizeText(a.reason, 120),
    by: a.by,
    untilMs: a.untilMs,
  }));
  return { quotas, subjects, blocks, audit };
}

/** Checks a quota from the form; throws UsageError with what to change. */
function checkInput(input: QuotaInput): Omit<Quota, 'id' | 'routerKey' | 'createdMs'> {
  if (!Number.isInteger(input.limitBytes) || input.limitBytes < 1 || input.limitBytes > MAX_QUOTA_BYTES) {
    throw new UsageError('The limit must be at least 1 byte and at most 1 PB.');
  }
  if (!QUOTA_DIRECTIONS.includes(input.direction)) throw new UsageError('The direction must be down, up or total.');
  try {
    return { subject: input.subject, limitBytes: input.limitBytes, direction: input.direction, period: checkQuotaPeriod(input.period), thresholds: buildThresholds(input.notifyPercents, input.block) };
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${error.message}.`);
    throw error;
  }
}

/**
 * Adds a quota, or changes quota `replacesId` in place (an edit: QuotaStore.updateQuota keeps its id
 * and the crossings of thresholds that still exist, so an edit does not alert again for them).
 */
export function saveQuota(store: HistoryStore, key: string, input: QuotaInput, nowMs: number, replacesId?: number): void {
  const checked = checkInput(input);
  if (checked.subject.kind === 'person') {
    const name = checked.subject.name;
    if (store.quotas.getPerson(key, name) === null) throw new UsageError(`No person '${sanitizeText(name, 40)}'.`, 'Add one with `lantop person add NAME DEVICE…`.');
  }
  if (replacesId === undefined) store.quotas.addQuota({ ...checked, routerKey: key, createdMs: nowMs });
  else if (store.quotas.updateQuota(key, replacesId, checked) === null) throw new UsageError(`No quota ${replacesId} to edit: it was removed meanwhile.`);
}

export function removeQuota(store: HistoryStore, key: string, id: number): void {
  if (!store.quotas.removeQuota(key, id)) throw new UsageError(`No quota ${id}: it was removed meanwhile.`);
}
