// Quotas that act (issue 16): after the polls that recorded history, at most every 10 s (and at
// once after start), each quota of the router is evaluated against the history (quota-usage.ts);
// each threshold crossing recorded for the first time (QuotaStore.recordCrossing: once per quota,
// window and percent, across restarts) becomes an alert (the AlertSink and the notice line), and a
// crossed threshold that blocks blocks the subject's devices until the quota's block expiry
// (quota-blocking.ts: never the owner or the router). At start and every minute, blocks whose
// expiry passed are removed from the router and audited as expired. Never throws into the poll
// loop: a failed router command is a notice. One enforcement (or hand block) at a time.
import { alertText, type AlertEvent, type AlertSink } from '../domain/alert-event.js';
import type { Clock } from '../domain/clock.js';
import { systemZone, type LocalZone } from '../domain/periods.js';
import { crossingWindowStartMs, formatQuotaPeriod, isRearmedBelow, quotaBlockUntilMs, type QuotaThreshold, type QuotaUsage } from '../domain/quota.js';
import type { HostUsage, Notice, QuotaUsageView, Snapshot } from '../domain/snapshot.js';
import { sanitizeText } from '../sanitize.js';
import type { HistoryStore } from '../store/history-store.js';
import type { KnownHost } from '../store/quota-store.js';
import type { BlockEntry } from '../router/backends/block.js';
import { blockDevice, blockedUntil, movedBlocks, blockEvent, blockIdentities, deviceFacts, displayName, NeverBlockGuard, DEVICE_BLOCK_WORDS, type BlockGuard, type BlockPort, type BlockWords, type ConnectionEnds } from './quota-blocking.js';
import { evaluateQuotas } from './quota-usage.js';

export const QUOTA_CHECK_INTERVAL_MS = 10_000;
export const BLOCK_EXPIRY_INTERVAL_MS = 60_000;
const MAX_NOTICES = 20;

export interface QuotaEnforcerOptions {
  routerKey: string;
  store: Pick<HistoryStore, 'findRouter' | 'quotas'>;
  client: BlockPort;
  session: ConnectionEnds;
  clock: Clock;
  /** The configured alert channels (null: none; the notice line still shows every alert). */
  sink: AlertSink | null;
  /** The neverBlock setting (canonical MACs and addresses). */
  neverBlock: readonly string[];
  /** Who may be blocked; default: the never-block rules of devices mode (NeverBlockGuard). */
  guard?: BlockGuard;
  /** How blocks are put in words (users mode: "denied SSH logins"); default: blocked/unblocked. */
  words?: BlockWords;
  /** How long a quota's block lasts (users mode: setting denyFor); absent or null: until the quota's period ends. */
  blockForMs?: number | null;
  zone?: LocalZone;
  checkIntervalMs?: number;
  expiryIntervalMs?: number;
  /** Told of every notice as it is made (already sanitised): `serve` prints them on stderr. */
  onNotice?: (notice: Notice) => void;
}

/** What a hand block or unblock did, in words for the screen. */
export interface BlockActionResult {
  isDone: boolean;
  message: string;
}

export class QuotaEnforcer {
  private chain: Promise<void> = Promise.resolve();
  private isBusy = false;
  private isClosed = false;
  private lastCheckMs = -Infinity;
  private lastExpiryMs = -Infinity;
  private views: QuotaUsageView[] = [];
  private blocked = new Map<string, number | null>();
  private blockEntries = new Map<string, BlockEntry>();
  private notices: Notice[] = [];
  private hosts: readonly HostUsage[] = [];
  /** The last failure of a repeating router read, so a router that cannot list blocks says so once. */
  private lastFailure: string | null = null;
  private readonly guard: BlockGuard;
  private readonly words: BlockWords;
  private readonly checkIntervalMs: number;
  private readonly expiryIntervalMs: number;

  constructor(private readonly options: QuotaEnforcerOptions) {
    this.guard = options.guard ?? new NeverBlockGuard(options.client, options.session, options.neverBlock);
    this.words = options.words ?? DEVICE_BLOCK_WORDS;
    this.checkIntervalMs = options.checkIntervalMs ?? QUOTA_CHECK_INTERVAL_MS;
    this.expiryIntervalMs = options.expiryIntervalMs ?? BLOCK_EXPIRY_INTERVAL_MS;
  }

  /** The quotas as last evaluated (empty: none). */
  get quotas(): readonly QuotaUsageView[] {
    return this.views;
  }

  /** Evaluates the quotas now (no crossings recorded, nothing blocked): the Quotas screen. */
  async evaluate(): Promise<readonly QuotaUsageView[]> {
    await this.exclusive(() => this.check(false));
    return this.views;
  }

  /** The blocks on the router as last read (expired ones left out). */
  currentBlocks(): Array<{ identity: string; untilMs: number | null }> {
    const now = this.options.clock.now();
    return [...this.blocked].filter(([, until]) => until === null || until > now).map(([identity, untilMs]) => ({ identity, untilMs }));
  }

  /** A notice for the notice line (alert channel failures come in here too). */
  notice(level: Notice['level'], text: string): void {
    const notice: Notice = { atMs: this.options.clock.now(), level, text: sanitizeText(text, 300) };
    this.notices.push(notice);
    if (this.notices.length > MAX_NOTICES) this.notices.splice(0, this.notices.length - MAX_NOTICES);
    try {
      this.options.onNotice?.(notice);
    } catch {
      // A listener's failure is not the enforcement's.
    }
  }

  /**
   * After a poll: starts an enforcement when one is due and none runs. `isWriter`: this process
   * records the history (only the writer acts; a reader evaluates for its screens). Never throws.
   */
  afterPoll(snapshot: Snapshot, isWriter: boolean): void {
    if (snapshot.connection.kind === 'connected') this.hosts = snapshot.hosts;
    if (this.isBusy || this.isClosed) return;
    const now = this.options.clock.now();
    const isCheckDue = now - this.lastCheckMs >= this.checkIntervalMs;
    const isExpiryDue = isWriter && now - this.lastExpiryMs >= this.expiryIntervalMs && snapshot.connection.kind === 'connected';
    // Blocks whose device moved to a new address (live, unexpired ones only: movedBlocks).
    const moved = isWriter && snapshot.connection.kind === 'connected' && this.blockEntries.size > 0 ? movedBlocks(this.hosts, this.blockEntries, now) : [];
    if (!isCheckDue && !isExpiryDue && moved.length === 0) return;
    if (isCheckDue) this.lastCheckMs = now;
    if (isExpiryDue) this.lastExpiryMs = now;
    void this.exclusive(async () => {
      if (isExpiryDue) await this.removeExpired();
      if (moved.length > 0) await this.followMovedBlocks(moved, now);
      if (isCheckDue) await this.check(isWriter);
    });
  }

  /** The router's blocks as last read or set: who is blocked until when, and on which addresses. */
  private setBlocks(entries: readonly BlockEntry[]): void {
    this.blocked = blockedUntil(entries);
    this.blockEntries = new Map(entries.filter((e) => !e.isExpired && e.identity !== null).map((e) => [e.identity!, e]));
  }

  /** Blocks each moved device again on its current addresses, until the same end, as the same quota or hand. */
  private async followMovedBlocks(moved: ReadonlyArray<{ entry: BlockEntry; addresses: string[] }>, now: number): Promise<void> {
    const { store, routerKey } = this.options;
    for (const { entry, addresses } of moved) {
      const identity = entry.identity!;
      const origin = store.quotas.listAudit(routerKey, { limit: 500 }).findLast((a) => a.action === 'block' && a.identity === identity);
      const device = { ...deviceFacts(identity, this.hosts, this.knownHosts()), addresses };
      const untilMs = entry.untilMs ?? now + 24 * 3_600_000;
      const reason = `the device's address changed to ${addresses.join(', ')}: blocked there too${origin ? ` (${origin.reason})` : ''}`;
      const result = await blockDevice(
        { device, untilMs, nowMs: now, routerKey, reason: sanitizeText(reason, 300), quotaId: origin?.quotaId ?? null, by: origin?.by ?? 'quota' },
        { client: this.options.client, guard: this.guard, hosts: this.hosts, audit: store.quotas, words: this.words },
      );
      if (result.kind === 'blocked') {
        this.setBlocks(result.entries);
        this.notice('warn', `${displayName(device)} ${reason}`);
      } else {
        // Refused (now the owner's address?) or failed: said once; the next move is tried anew.
        this.blockEntries.set(identity, { ...entry, addresses });
        this.notice(result.kind === 'refused' ? 'warn' : 'error', result.reason);
      }
    }
  }

  /** Resolves when the enforcement (or hand block) in flight is done (tests, shutdown). */
  idle(): Promise<void> {
    return this.chain;
  }

  close(): void {
    this.isClosed = true;
  }

  /** The snapshot with the quota state, the blocked hosts and the enforcer's notices. Cheap. */
  decorate(snapshot: Snapshot): Snapshot {
    if (this.views.length === 0 && this.blocked.size === 0 && this.notices.length === 0) return snapshot;
    const now = this.options.clock.now();
    const hosts =
      this.blocked.size === 0
        ? snapshot.hosts
        : snapshot.hosts.map((h) => {
            const until = this.blocked.get(h.identity);
            return until === undefined || (until !== null && until <= now) ? h : { ...h, blockedUntilMs: until };
          });
    const notices = this.notices.length === 0 ? snapshot.notices : [...snapshot.notices, ...this.notices].sort((a, b) => a.atMs - b.atMs).slice(-MAX_NOTICES);
    return { ...snapshot, hosts, notices, ...(this.views.length > 0 ? { quotas: this.views } : {}) };
  }

  /** Blocks a device by hand (the live screen's key) for `durationMs`. */
  blockByHand(identity: string, durationMs: number): Promise<BlockActionResult> {
    return this.exclusive(async () => {
      const now = this.options.clock.now();
      const known = this.knownHosts();
      const device = deviceFacts(identity, this.hosts, known);
      const result = await blockDevice(
        { device, untilMs: now + durationMs, nowMs: now, routerKey: this.options.routerKey, reason: 'blocked by hand in the app', quotaId: null, by: 'hand' },
        { client: this.options.client, guard: this.guard, hosts: this.hosts, audit: this.options.store.quotas, words: this.words },
      );
      if (result.kind !== 'blocked') {
        this.notice(result.kind === 'refused' ? 'warn' : 'error', result.reason);
        return { isDone: false, message: result.reason };
      }
      this.setBlocks(result.entries);
      this.alert(result.event, 'warn');
      return { isDone: true, message: `${displayName(device)} ${this.words.blocked} until ${clockTime(now + durationMs)}.` };
    }, { isDone: false, message: 'the block did not run' });
  }

  /** Lifts a device's block by hand. */
  unblockByHand(identity: string): Promise<BlockActionResult> {
    return this.exclusive(async () => {
      const now = this.options.clock.now();
      const device = deviceFacts(identity, this.hosts, this.knownHosts());
      try {
        const outcome = await this.options.client.unblock(identity, now);
        this.setBlocks(outcome.entries);
      } catch (error) {
        const reason = `could not unblock ${displayName(device)}: ${sanitizeText(error instanceof Error ? error.message : String(error), 200)}`;
        this.notice('error', reason);
        return { isDone: false, message: reason };
      }
      const request = { device, nowMs: now, routerKey: this.options.routerKey, reason: 'unblocked by hand in the app', quotaId: null, by: 'hand' as const, untilMs: null };
      this.options.store.quotas.addAudit({ atMs: now, routerKey: request.routerKey, action: 'unblock', identity, addresses: device.addresses, reason: request.reason, quotaId: null, by: 'hand', untilMs: null });
      this.alert(blockEvent('unblock', request, this.words), 'info');
      return { isDone: true, message: `${displayName(device)} ${this.words.unblocked}.` };
    }, { isDone: false, message: 'the unblock did not run' });
  }

  private exclusive<T>(task: () => Promise<T>, fallback?: T): Promise<T> {
    const run = this.chain.then(async () => {
      this.isBusy = true;
      try {
        return await task();
      } catch (error) {
        this.notice('error', `quota enforcement failed: ${error instanceof Error ? error.message : String(error)}`);
        return fallback as T;
      } finally {
        this.isBusy = false;
      }
    });
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private knownHosts(): KnownHost[] {
    const routerId = this.options.store.findRouter(this.options.routerKey);
    return routerId === null ? [] : this.options.store.quotas.knownHosts(routerId);
  }

  private alert(event: AlertEvent, level: Notice['level']): void {
    // The notice line is lantop's own: the alert's words without the "lantop: " that channels need.
    this.notice(level, alertText(event).replace(/^lantop: /, '').replace(/; router [^;]*$/, ''));
    try {
      this.options.sink?.send(event);
    } catch {
      // A sink never throws (domain/alert-event.ts); should one, polling goes on.
    }
  }

  private failedOnce(text: string): void {
    if (text === this.lastFailure) return;
    this.lastFailure = text;
    this.notice('error', text);
  }

  private async removeExpired(): Promise<void> {
    const { client, clock, routerKey, store } = this.options;
    const now = clock.now();
    try {
      // One read of the router's blocks (and the removal, when some expired): what is left is what
      // the screens show as blocked.
      const { entries, removed } = await client.removeExpiredBlocks(now);
      for (const entry of removed) {
        const identity = entry.identity ?? entry.mac ?? entry.addresses[0] ?? '?';
        // The router's tag holds the device and the expiry, not who blocked: the audit row of the
        // block that set this expiry (the router keeps whole seconds) says which quota, or by hand.
        const origin = store.quotas.listAudit(routerKey, { limit: 500 }).findLast((a) => a.action === 'block' && a.identity === identity && a.untilMs !== null && entry.untilMs !== null && Math.abs(a.untilMs - entry.untilMs) <= 1000);
        const quotaId = origin?.quotaId ?? null;
        const by = origin?.by ?? 'quota';
        store.quotas.addAudit({ atMs: now, routerKey, action: 'expired', identity, addresses: entry.addresses, reason: 'the block ended', quotaId, by, untilMs: entry.untilMs });
        const device = deviceFacts(identity, this.hosts, []);
        this.alert(blockEvent('unblock', { device, nowMs: now, routerKey, reason: 'the block ended', quotaId, by, untilMs: entry.untilMs }, this.words), 'info');
      }
      this.setBlocks(entries);
      this.lastFailure = null;
    } catch (error) {
      this.failedOnce(`could not read or lift the router's blocks: ${sanitizeText(error instanceof Error ? error.message : String(error), 200)}`);
    }
  }

  private async check(isWriter: boolean): Promise<void> {
    const { store, routerKey, clock } = this.options;
    const zone = this.options.zone ?? systemZone;
    const quotas = store.quotas.listQuotas(routerKey);
    if (quotas.length === 0) {
      this.views = [];
      return;
    }
    const now = clock.now();
    const routerId = store.findRouter(routerKey);
    const usages = evaluateQuotas(store.quotas, routerId, quotas, now, zone);
    const known = routerId === null ? [] : store.quotas.knownHosts(routerId);
    this.views = usages.map((u) => this.viewOf(u, known));
    if (!isWriter) return;
    for (const usage of usages) {
      const windowStartMs = crossingWindowStartMs(usage.quota.period, { startMs: usage.startMs, endMs: now, resetMs: usage.resetMs }, now);
      if (isRearmedBelow(usage.quota.period)) {
        // A rolling window's usage fell back below a threshold: its next climb over it alerts (and blocks) again.
        for (const threshold of usage.quota.thresholds) if (usage.percent < threshold.percent) store.quotas.forgetCrossing(usage.quota.id, windowStartMs, threshold.percent);
      }
      for (const threshold of usage.crossed) {
        if (!store.quotas.recordCrossing(usage.quota.id, windowStartMs, threshold.percent, now)) continue;
        if (threshold.notify) this.alert(this.thresholdEvent(usage, threshold, known, now), 'warn');
        if (threshold.block) await this.blockQuota(usage, threshold, known, now, zone);
      }
    }
    this.views = usages.map((u) => this.viewOf(u, known));
  }

  private async blockQuota(usage: QuotaUsage, threshold: QuotaThreshold, known: readonly KnownHost[], now: number, zone: LocalZone): Promise<void> {
    const { quota } = usage;
    const untilMs = this.options.blockForMs != null ? now + this.options.blockForMs : quotaBlockUntilMs(quota.period, now, zone);
    const reason = `quota ${quota.id} (${this.subjectName(usage, known)}) reached ${threshold.percent} %`;
    for (const identity of blockIdentities(quota, this.options.store.quotas, this.hosts)) {
      const device = deviceFacts(identity, this.hosts, known);
      const result = await blockDevice(
        { device, untilMs, nowMs: now, routerKey: this.options.routerKey, reason, quotaId: quota.id, by: 'quota' },
        { client: this.options.client, guard: this.guard, hosts: this.hosts, audit: this.options.store.quotas, words: this.words },
      );
      if (result.kind === 'blocked') {
        this.setBlocks(result.entries);
        this.alert({ ...result.event, usedBytes: usage.usedBytes, limitBytes: usage.limitBytes, direction: quota.direction, periodStartMs: usage.startMs, resetMs: usage.resetMs }, 'warn');
      } else {
        // Not retried every poll: the crossing is recorded; the user sees why and may block by hand.
        this.notice(result.kind === 'refused' ? 'warn' : 'error', `quota ${quota.id}: ${result.reason}`);
      }
    }
  }

  private subjectName(usage: QuotaUsage, known: readonly KnownHost[]): string {
    const { subject } = usage.quota;
    if (subject.kind === 'line') return 'whole line';
    if (subject.kind === 'person') return sanitizeText(subject.name, 40);
    return displayName(deviceFacts(subject.identity, this.hosts, known));
  }

  private thresholdEvent(usage: QuotaUsage, threshold: QuotaThreshold, known: readonly KnownHost[], now: number): AlertEvent {
    const { quota } = usage;
    const { subject } = quota;
    const id = subject.kind === 'device' ? subject.identity : subject.kind === 'person' ? subject.name : 'line';
    return {
      kind: 'quota-threshold',
      atMs: now,
      router: this.options.routerKey,
      subject: { kind: subject.kind, id, name: subject.kind === 'line' ? null : this.subjectName(usage, known) },
      quotaId: quota.id,
      percent: threshold.percent,
      usedBytes: usage.usedBytes,
      limitBytes: usage.limitBytes,
      direction: quota.direction,
      periodStartMs: usage.startMs,
      resetMs: usage.resetMs,
      untilMs: null,
      // Past 10× the limit a percent says less than the multiple (a tiny limit can read 105315200 %).
      message: `quota ${quota.id}: ${usage.percent >= 1000 ? `${Math.floor(usage.percent / 100)}× the limit` : `${Math.floor(usage.percent)} %`} used`,
    };
  }

  private viewOf(usage: QuotaUsage, known: readonly KnownHost[]): QuotaUsageView {
    const { quota } = usage;
    const selected = this.options.store.quotas.identitiesOf(quota);
    const identities = selected === 'all' ? [] : [...selected];
    const now = this.options.clock.now();
    const isLive = (identity: string) => {
      const until = this.blocked.get(identity);
      return until !== undefined && (until === null || until > now);
    };
    const subject = quota.subject;
    return {
      id: quota.id,
      subject: { kind: subject.kind, id: subject.kind === 'device' ? subject.identity : subject.kind === 'person' ? subject.name : 'line' },
      name: this.subjectName(usage, known),
      identities,
      direction: quota.direction,
      period: formatQuotaPeriod(quota.period),
      usedBytes: usage.usedBytes,
      limitBytes: usage.limitBytes,
      leftBytes: usage.leftBytes,
      percent: usage.percent,
      startMs: usage.startMs,
      resetMs: usage.resetMs,
      isBlocked: selected === 'all' ? [...this.blocked.keys()].some(isLive) : identities.some(isLive),
    };
  }
}

/** `14:05` in the local zone. */
function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
