// `lantop block DEVICE --for DURATION | --until TIME`, `lantop unblock DEVICE | --all`,
// `lantop block --list [--json]` (issue 16, docs/blocking.md). DEVICE is a MAC, an address or a
// name as `hosts` shows it, resolved against a live discovery. Before anything is sent, the never-
// block rules (domain/never-block.ts) refuse the owner's device, the router and the never-block
// list. Every block and unblock is written to the audit log (the history database's block_audit).
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { canonicalAddress } from '../domain/address.js';
import { canonicalMacText, checkNeverBlock, neverBlockFactsOf } from '../domain/never-block.js';
import type { BlockAuditAction } from '../domain/quota.js';
import { renderTable, type Column } from '../output/table.js';
import { formatLocalTime, formatTimeUntil } from '../output/units.js';
import type { BlockEntry, BlockTarget } from '../router/backends/block.js';
import type { DiscoveredHost } from '../router/discovery.js';
import type { Action } from './context.js';
import { withRouter } from './commands.js';
import { createServices, noteCleartextTelnet, type Services } from './services.js';
import { parseBlockDuration } from '../domain/durations.js';

export { parseBlockDuration };

const DAY_MS = 86_400_000;

/** `--until`: an ISO date-time (`2026-12-03T07:00`, `…Z`), or `HH:MM` today in local time (tomorrow once past). */
export function parseBlockUntil(text: string, nowMs: number): number {
  const t = text.trim();
  const hm = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (hm) {
    const [h, m] = [Number(hm[1]), Number(hm[2])];
    if (h > 23 || m > 59) throw new RangeError(`'${t}' is not a time of day`);
    const at = new Date(nowMs);
    at.setHours(h, m, 0, 0);
    return at.getTime() <= nowMs ? at.getTime() + DAY_MS : at.getTime();
  }
  const ms = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(t) ? Date.parse(t) : Number.NaN;
  if (!Number.isFinite(ms)) throw new RangeError(`'${t.slice(0, 40)}' is not a time: use HH:MM or an ISO date-time like 2026-12-03T07:00`);
  if (ms <= nowMs) throw new RangeError(`${t} is not in the future`);
  return ms;
}

function parsed<T>(flag: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${flag}: ${error.message}.`, 'e.g. `lantop block alice-laptop --for 2h` or `--until 07:00`.');
    throw error;
  }
}

/** The device DEVICE names among the discovered hosts: by MAC, address or name; a clear error otherwise. */
export function resolveBlockDevice(text: string, hosts: readonly DiscoveredHost[]): { identity: string; mac: string | null; addresses: string[]; name: string | null } {
  const mac = canonicalMacText(text);
  const address = mac === null ? canonicalAddress(text) : null;
  const byName = hosts.filter((h) => h.hostname !== null && h.hostname.toLowerCase() === text.toLowerCase());
  const matches = mac !== null ? hosts.filter((h) => h.mac === mac) : address !== null ? hosts.filter((h) => h.addresses.includes(address) || h.ip === address) : byName;
  const macs = [...new Set(matches.map((h) => h.mac))];
  if (macs.length > 1) {
    throw new UsageError(`"${sanitizeText(text, 40)}" names ${macs.length} devices: ${matches.map((h) => `${sanitizeText(h.hostname ?? '(no name)', 30)} ${h.mac} ${h.ip}`).join('; ')}.`, 'Name the device by its MAC.');
  }
  if (matches.length > 0) {
    const hostMac = matches[0]!.mac;
    const addresses = [...new Set(hosts.filter((h) => h.mac === hostMac).flatMap((h) => [h.ip, ...h.addresses]))];
    return { identity: hostMac, mac: hostMac, addresses, name: matches[0]!.hostname };
  }
  // Not on the LAN right now: a MAC or an address is still blockable as given.
  if (mac !== null) return { identity: mac, mac, addresses: [], name: null };
  if (address !== null) return { identity: `ip:${address}`, mac: null, addresses: [address], name: null };
  const names = hosts.map((h) => sanitizeText(h.hostname ?? h.ip, 30)).slice(0, 12).join(', ');
  throw new UsageError(`No device "${sanitizeText(text, 40)}" on the router now.`, `Give a MAC, an address, or one of the names \`lantop hosts\` shows${names ? ` (${names})` : ''}.`);
}

function audit(services: Services, action: BlockAuditAction, entry: { identity: string; addresses: string[]; untilMs: number | null; reason: string }): void {
  const store = services.openHistory();
  try {
    store.quotas.addAudit({ atMs: services.clock.now(), routerKey: services.key, action, identity: entry.identity, addresses: entry.addresses, reason: entry.reason, quotaId: null, by: 'hand', untilMs: entry.untilMs });
  } finally {
    store.close();
  }
}

function plain(ctx: Parameters<Action>[0]): Services {
  const services = createServices(ctx);
  noteCleartextTelnet(services);
  return services;
}

const opt = (options: Record<string, unknown>, key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);

function note(services: Services, lines: readonly string[]): void {
  for (const line of lines) services.io.stderr.write(`note: ${sanitizeText(line, 200)}\n`);
}

async function runBlock(services: Services, device: string, options: Record<string, unknown>): Promise<number> {
  const forText = opt(options, 'for');
  const untilText = opt(options, 'until');
  if ((forText === undefined) === (untilText === undefined)) throw new UsageError('Say how long: give --for DURATION (e.g. 90s, 20m, 2h) or --until TIME (HH:MM or an ISO date-time), one of them.');
  const nowMs = services.clock.now();
  const untilMs = forText !== undefined ? nowMs + parsed('--for', () => parseBlockDuration(forText)) : parsed('--until', () => parseBlockUntil(untilText!, nowMs));
  return withRouter(services, async ({ client, session }) => {
    const hosts = await client.listHosts();
    const device$ = resolveBlockDevice(device, hosts);
    const router = await client.routerOwnAddresses();
    note(services, router.notes);
    const facts = neverBlockFactsOf({ localAddress: session.localAddress, remoteAddress: session.remoteAddress, hosts, router, neverBlock: services.settings.neverBlock });
    const verdict = checkNeverBlock(device$, facts);
    if (!verdict.isAllowed) throw new UsageError(verdict.reason, 'Nothing was changed. Blocking never touches the router itself or the device you manage it from.');
    const target: BlockTarget = { identity: device$.identity, mac: device$.mac, addresses: device$.addresses, untilMs };
    const outcome = await client.block(target, nowMs);
    note(services, outcome.notes);
    audit(services, 'block', { identity: target.identity, addresses: target.addresses, untilMs, reason: `by hand: lantop block ${forText !== undefined ? `--for ${forText}` : `--until ${untilText}`}` });
    const who = `${sanitizeText(device$.name ?? target.identity, 40)}${device$.name !== null ? ` (${target.identity})` : ''}`;
    services.io.stderr.write(`Blocked ${who} until ${formatLocalTime(untilMs)} (${formatTimeUntil(untilMs - services.clock.now())}): ${outcome.applied.length} command(s) applied.\n`);
    return EXIT.ok;
  });
}

async function runUnblock(services: Services, device: string | undefined, options: Record<string, unknown>): Promise<number> {
  const isAll = options.all === true;
  if (isAll === (device !== undefined)) throw new UsageError('Say what to unblock: a DEVICE (MAC, address or name) or --all, one of them.');
  const nowMs = services.clock.now();
  return withRouter(services, async ({ client }) => {
    let which: string | 'all' = 'all';
    if (!isAll) {
      const entries = await client.listBlocks(nowMs);
      const hosts = await client.listHosts();
      const mac = canonicalMacText(device!);
      const address = mac === null ? canonicalAddress(device!) : null;
      const blocked = entries.find((e) => e.identity === mac || (mac !== null && e.mac === mac) || (address !== null && (e.identity === `ip:${address}` || e.addresses.includes(address))));
      which = blocked?.identity ?? resolveBlockDevice(device!, hosts).identity;
    }
    const before = await client.listBlocks(nowMs);
    const outcome = await client.unblock(which, nowMs);
    note(services, outcome.notes);
    const lifted = which === 'all' ? before : before.filter((e) => e.identity === which);
    for (const e of lifted) audit(services, 'unblock', { identity: e.identity ?? (e.mac ?? `ip:${e.addresses[0] ?? '?'}`), addresses: e.addresses, untilMs: e.untilMs, reason: `by hand: lantop unblock ${which === 'all' ? '--all' : which}` });
    services.io.stderr.write(outcome.applied.length === 0 ? `Nothing to unblock${which === 'all' ? '' : ` for ${which}`}.\n` : `Unblocked ${which === 'all' ? 'every device' : which}: ${outcome.applied.length} command(s) applied.\n`);
    return EXIT.ok;
  });
}

/** An entry as `block --list --json` prints it. */
export function blockEntryJson(e: BlockEntry): Record<string, unknown> {
  return { identity: e.identity, mac: e.mac, addresses: e.addresses, untilMs: e.untilMs, until: e.untilMs === null ? null : new Date(e.untilMs).toISOString(), expired: e.isExpired };
}

async function runList(services: Services, options: Record<string, unknown>): Promise<number> {
  const nowMs = services.clock.now();
  return withRouter(services, async ({ client }) => {
    // Expired blocks: the kernel stopped them; lantop removes their objects now and says so (they
    // are listed as `expired`, after the blocks still in place).
    const { entries: left, removed: expired } = await client.removeExpiredBlocks(nowMs);
    const entries = [...left, ...expired];
    if (expired.length > 0) {
      for (const e of expired) audit(services, 'expired', { identity: e.identity ?? (e.mac ?? `ip:${e.addresses[0] ?? '?'}`), addresses: e.addresses, untilMs: e.untilMs, reason: 'expired: removed by lantop block --list' });
    }
    const store = services.openHistory();
    const log = (() => {
      try {
        return store.quotas.listAudit(services.key, { limit: 20 });
      } finally {
        store.close();
      }
    })();
    if (options.json === true || !services.io.stdout.isTTY) {
      services.io.stdout.write(JSON.stringify({ router: services.label, blocks: entries.map(blockEntryJson), audit: log.map((a) => ({ atMs: a.atMs, action: a.action, identity: a.identity, addresses: a.addresses, reason: sanitizeText(a.reason, 200), by: a.by, quotaId: a.quotaId, untilMs: a.untilMs })) }, null, 2) + '\n');
      return EXIT.ok;
    }
    const columns: Column<BlockEntry>[] = [
      { header: 'DEVICE', value: (e) => e.identity ?? '(untagged)', priority: 9 },
      { header: 'ADDRESSES', value: (e) => e.addresses.join(' '), maxWidth: 48, priority: 5 },
      { header: 'UNTIL', value: (e) => (e.untilMs === null ? '(no end)' : formatLocalTime(e.untilMs)), priority: 8 },
      { header: 'STATE', value: (e) => (e.isExpired ? 'expired (removed)' : 'blocked'), priority: 7 },
    ];
    services.io.stdout.write(entries.length === 0 ? 'No device is blocked.\n' : renderTable(entries, columns, services.io.stdout.columns));
    if (log.length > 0) services.io.stdout.write(`\nLast ${log.length} audit line(s):\n${log.map((a) => `  ${formatLocalTime(a.atMs)}  ${a.action}  ${a.identity}  ${sanitizeText(a.reason, 100)}`).join('\n')}\n`);
    return EXIT.ok;
  });
}

export const blockActions = {
  async block(ctx, options, args) {
    const services = plain(ctx);
    if (options.list === true) {
      if (args[0] !== undefined) throw new UsageError('--list takes no DEVICE.');
      return runList(services, options);
    }
    if (args[0] === undefined) throw new UsageError('Which device? Give a MAC, an address or a name as `lantop hosts` shows it.', 'Or `lantop block --list` to see the blocks.');
    return runBlock(services, args[0], options);
  },
  async unblock(ctx, options, args) {
    return runUnblock(plain(ctx), args[0], options);
  },
} satisfies Record<string, Action>;
