// Blocking for the quota enforcer and the app's block key (issue 16): who a quota's subject is on
// the router right now (a device, a person's devices, every device of the line), the never-block
// facts (the address lantop connects from and its MAC, the router's own addresses, the neverBlock
// setting: domain/never-block.ts decides), the block itself through RouterClient, its audit row
// and its alert. A refusal or a failed router command is returned as words, never thrown.
import type { AlertEvent } from '../domain/alert-event.js';
import { checkNeverBlock, neverBlockFactsOf, type NeverBlockFacts } from '../domain/never-block.js';
import type { Quota } from '../domain/quota.js';
import { isUnattributedIdentity, type HostUsage } from '../domain/snapshot.js';
import { sanitizeText } from '../sanitize.js';
import { USER_IDENTITY_PREFIX } from '../domain/user-usage.js';
import type { BlockEntry, BlockTarget } from '../router/backends/block.js';
import type { KnownHost, QuotaStore } from '../store/quota-store.js';

/** What blocking needs of the RouterClient (it has these methods). */
export interface BlockPort {
  block(target: BlockTarget, nowMs: number): Promise<{ entries: BlockEntry[]; notes: string[] }>;
  unblock(which: string | 'all', nowMs: number): Promise<{ entries: BlockEntry[]; notes: string[] }>;
  /** Removes the expired blocks: `removed` are they, `entries` the blocks left (RouterClient). */
  removeExpiredBlocks(nowMs: number): Promise<{ entries: BlockEntry[]; notes: string[]; removed: BlockEntry[] }>;
  routerOwnAddresses(): Promise<{ addresses: string[]; macs: string[]; notes: string[] }>;
}

/** The two ends of the router connection (ReconnectingSession has them). */
export interface ConnectionEnds {
  readonly localAddress?: string | null;
  readonly remoteAddress?: string | null;
}

/** A device as lantop knows it now: from the snapshot when online, else from the history's hosts. */
export interface DeviceFacts {
  identity: string;
  mac: string | null;
  addresses: string[];
  name: string | null;
}

export function deviceFacts(identity: string, hosts: readonly HostUsage[], known: readonly KnownHost[]): DeviceFacts {
  const live = hosts.find((h) => h.identity === identity);
  if (live) return { identity, mac: live.mac, addresses: [...live.addresses], name: live.hostname };
  const stored = known.find((h) => h.identity === identity);
  if (stored) return { identity, mac: stored.mac, addresses: [stored.ip], name: stored.hostname };
  // Users mode (issue 18): a user is known by name alone.
  if (identity.startsWith(USER_IDENTITY_PREFIX)) return { identity, mac: null, addresses: [], name: identity.slice(USER_IDENTITY_PREFIX.length) };
  const ip = identity.startsWith('ip:') ? identity.slice(3) : null;
  return { identity, mac: ip === null ? identity : null, addresses: ip === null ? [] : [ip], name: null };
}

/** The devices a quota blocks: its device, the person's devices, or every device online (the line). */
export function blockIdentities(quota: Quota, store: Pick<QuotaStore, 'identitiesOf'>, hosts: readonly HostUsage[]): string[] {
  const selected = store.identitiesOf(quota);
  if (selected !== 'all') return [...selected];
  return hosts.filter((h) => !isUnattributedIdentity(h.identity)).map((h) => h.identity);
}

/** A display-safe name: the host name, else the identity. */
export function displayName(device: Pick<DeviceFacts, 'identity' | 'name'>): string {
  const name = device.name === null ? '' : sanitizeText(device.name, 40).trim();
  return name !== '' ? name : sanitizeText(device.identity, 64);
}

/**
 * Whether a device (or, in users mode, a user) may be blocked now: null when it may, else the
 * refusal in words (display-safe). Devices mode: NeverBlockGuard; users mode: app/user-deny-guard.ts.
 */
export interface BlockGuard {
  refusal(device: DeviceFacts, hosts: readonly HostUsage[]): Promise<string | null>;
}

/**
 * Never-block facts, gathered once per connection: the router's own addresses are read once
 * (read-only commands); the owner's address is the connection's local end, its MAC what the
 * router's neighbour table (the snapshot) says of that address.
 */
export class NeverBlockGuard implements BlockGuard {
  private routerOwn: Promise<{ addresses: string[]; macs: string[]; notes: string[] }> | null = null;

  constructor(
    private readonly client: Pick<BlockPort, 'routerOwnAddresses'>,
    private readonly ends: ConnectionEnds,
    private readonly neverBlock: readonly string[],
  ) {}

  async facts(hosts: readonly HostUsage[]): Promise<NeverBlockFacts> {
    this.routerOwn ??= this.client.routerOwnAddresses().catch(() => {
      this.routerOwn = null;
      return { addresses: [], macs: [], notes: [] };
    });
    const own = await this.routerOwn;
    return neverBlockFactsOf({ localAddress: this.ends.localAddress ?? null, remoteAddress: this.ends.remoteAddress ?? null, hosts, router: own, neverBlock: this.neverBlock });
  }

  async refusal(device: DeviceFacts, hosts: readonly HostUsage[]): Promise<string | null> {
    if (device.mac === null && device.addresses.length === 0) return `Cannot block ${displayName(device)}: no MAC or address is known for it.`;
    const verdict = checkNeverBlock({ identity: device.identity, mac: device.mac, addresses: device.addresses }, await this.facts(hosts));
    return verdict.isAllowed ? null : sanitizeText(verdict.reason, 300);
  }
}

export interface BlockRequest {
  device: DeviceFacts;
  untilMs: number;
  nowMs: number;
  routerKey: string;
  reason: string;
  quotaId: number | null;
  by: 'quota' | 'hand';
}

export type BlockResult =
  | { kind: 'blocked'; entries: BlockEntry[]; notes: string[]; event: AlertEvent }
  | { kind: 'refused'; reason: string }
  | { kind: 'failed'; reason: string };

function errorText(error: unknown): string {
  return sanitizeText(error instanceof Error ? error.message : String(error), 200);
}

/** Checks never-block, blocks on the router, writes the audit row; the alert event to send. */
export async function blockDevice(
  request: BlockRequest,
  parts: { client: BlockPort; guard: BlockGuard; hosts: readonly HostUsage[]; audit: Pick<QuotaStore, 'addAudit'>; words?: BlockWords },
): Promise<BlockResult> {
  const { device } = request;
  const refusal = await parts.guard.refusal(device, parts.hosts);
  if (refusal !== null) return { kind: 'refused', reason: refusal };
  let outcome: { entries: BlockEntry[]; notes: string[] };
  try {
    outcome = await parts.client.block({ identity: device.identity, mac: device.mac, addresses: device.addresses, untilMs: request.untilMs }, request.nowMs);
  } catch (error) {
    return { kind: 'failed', reason: `could not block ${displayName(device)}: ${errorText(error)}` };
  }
  parts.audit.addAudit({
    atMs: request.nowMs,
    routerKey: request.routerKey,
    action: 'block',
    identity: device.identity,
    addresses: device.addresses,
    reason: request.reason,
    quotaId: request.quotaId,
    by: request.by,
    untilMs: request.untilMs,
  });
  return { kind: 'blocked', entries: outcome.entries, notes: outcome.notes.map((n) => sanitizeText(n, 200)), event: blockEvent('block', request, parts.words) };
}

/** How a block is put in words: devices are blocked; users mode's users are denied SSH logins. */
export interface BlockWords {
  blocked: string;
  unblocked: string;
}

export const DEVICE_BLOCK_WORDS: BlockWords = { blocked: 'blocked', unblocked: 'unblocked' };

export function blockEvent(kind: 'block' | 'unblock', request: Omit<BlockRequest, 'untilMs'> & { untilMs: number | null }, words: BlockWords = DEVICE_BLOCK_WORDS): AlertEvent {
  const name = displayName(request.device);
  return {
    kind,
    atMs: request.nowMs,
    router: request.routerKey,
    subject: { kind: 'device', id: request.device.identity, name: request.device.name === null ? null : sanitizeText(request.device.name, 64) },
    quotaId: request.quotaId,
    percent: null,
    usedBytes: null,
    limitBytes: null,
    direction: null,
    periodStartMs: null,
    resetMs: null,
    untilMs: request.untilMs,
    message: sanitizeText(`${name} ${kind === 'block' ? words.blocked : words.unblocked}: ${request.reason}`, 300),
  };
}

/** identity → when its block ends (null: no end known), for the live blocks (expired ones left out). */
export function blockedUntil(entries: readonly BlockEntry[]): Map<string, number | null> {
  const out = new Map<string, number | null>();
  for (const entry of entries) {
    if (entry.isExpired) continue;
    const identity = entry.identity ?? entry.mac;
    if (identity !== null) out.set(identity, entry.untilMs);
  }
  return out;
}

/**
 * Blocked devices whose addresses moved (a new DHCP lease, a new IPv6 address): a block by address
 * must follow them, or the device's downloads flow again on its new address. Live hosts only.
 */
export function movedBlocks(hosts: readonly HostUsage[], blocks: ReadonlyMap<string, BlockEntry>, nowMs: number): Array<{ entry: BlockEntry; addresses: string[] }> {
  const moved: Array<{ entry: BlockEntry; addresses: string[] }> = [];
  for (const host of hosts) {
    const entry = blocks.get(host.identity);
    if (entry === undefined || (entry.untilMs !== null && entry.untilMs <= nowMs)) continue;
    // A block by no address and no MAC (users mode's deny of a user name) has nothing to follow.
    if (entry.mac === null && entry.addresses.length === 0) continue;
    if (host.addresses.every((a) => entry.addresses.includes(a))) continue;
    moved.push({ entry, addresses: [...host.addresses] });
  }
  return moved;
}
