// `lantop quota add|edit|list|remove` and `lantop person add|list|remove` (issue 16; docs/quotas.md).
// Quotas and persons live in the history database, keyed by the router (`host:port`, as the
// history); devices are resolved against the hosts that history recorded, so no router login is
// needed. Every argument is checked before anything is written: a bad one changes nothing.

import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import {
  buildThresholds,
  formatQuotaPeriod,
  parsePercent,
  parseQuotaPeriod,
  parseSize,
  QUOTA_DIRECTIONS,
  type Quota,
  type QuotaDirection,
  type QuotaSubject,
  type QuotaThreshold,
  type QuotaUsage,
} from '../domain/quota.js';
import { renderTable, type Column } from '../output/table.js';
import { formatBytes, formatLocalTime, formatTimeUntil } from '../output/units.js';
import type { HistoryStore } from '../store/history-store.js';
import type { KnownHost } from '../store/quota-store.js';
import type { Action } from './context.js';
import { evaluateQuotas } from './quota-usage.js';
import { checkPersonName, describeHost, nameOfIdentity, resolveDevice, resolveSubject, unknownPerson } from './quota-subjects.js';
import { createServices, type Services, storedSettingsRouterKey, withHistory } from './services.js';

export interface QuotaAddOptions {
  limit?: string;
  direction?: string;
  period?: string;
  cycleDay?: string;
  notify?: string[];
  block?: boolean;
}

/** `quota edit` takes the same options: only what is given changes; `block` false is `--no-block`. */
export type QuotaEditOptions = QuotaAddOptions;

/** A RangeError from the domain's parsers → a UsageError naming the flag. */
function parsed<T>(flag: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError) throw new UsageError(`${flag}: ${error.message}.`);
    throw error;
  }
}

const routerKeyOf = (services: Services): string => storedSettingsRouterKey(services, 'quotas');
const withStore = withHistory;

function knownHostsOf(store: HistoryStore, key: string): KnownHost[] {
  const routerId = store.findRouter(key);
  return routerId === null ? [] : store.quotas.knownHosts(routerId);
}

function subjectName(subject: QuotaSubject, hosts: readonly KnownHost[]): string {
  if (subject.kind === 'line') return 'whole line';
  if (subject.kind === 'person') return `${sanitizeText(subject.name, 40)} (person)`;
  return nameOfIdentity(subject.identity, hosts);
}

function describeThresholds(thresholds: readonly QuotaThreshold[]): string {
  const notify = thresholds.filter((t) => t.notify).map((t) => `${t.percent}%`);
  const block = thresholds.filter((t) => t.block).map((t) => `${t.percent}%`);
  return [notify.length > 0 ? `notify at ${notify.join(', ')}` : '', block.length > 0 ? `block at ${block.join(', ')}` : ''].filter(Boolean).join('; ');
}

const localTime = formatLocalTime;
const timeUntil = formatTimeUntil;

// ---- quota add ----------------------------------------------------------------------------------

export function runQuotaAdd(services: Services, who: string | undefined, options: QuotaAddOptions): number {
  const key = routerKeyOf(services);
  if (who === undefined) throw new UsageError('quota add: say whose quota it is.', 'Give a device, a person or `line`.');
  if (options.limit === undefined) throw new UsageError('quota add needs --limit SIZE.', 'For example --limit 50GB (kB/MB/GB ×1000, KiB/MiB/GiB ×1024).');
  if (options.period === undefined) throw new UsageError('quota add needs --period.', 'Use day, week, month, cycle:N (billing day N), Nh or Nm.');
  const limitBytes = parsed('--limit', () => parseSize(options.limit!));
  const direction = directionOf(options.direction ?? 'total');
  const cycleDay = options.cycleDay === undefined ? undefined : parsed('--cycle-day', () => cycleDayOf(options.cycleDay!));
  const period = parsed('--period', () => parseQuotaPeriod(options.period!, cycleDay));
  const notify = parsed('--notify', () => (options.notify ?? []).map(parsePercent));
  const thresholds = buildThresholds(notify, options.block === true);
  return withStore(services, (store) => {
    const hosts = knownHostsOf(store, key);
    const subject = resolveSubject(who, hosts, store.quotas.listPersons(key));
    const quota = store.quotas.addQuota({ routerKey: key, subject, limitBytes, direction, period, thresholds, createdMs: services.clock.now() });
    services.io.stdout.write(
      `Quota ${quota.id} added: ${subjectName(subject, hosts)}, ${formatBytes(limitBytes)} ${direction} per ${formatQuotaPeriod(period)}; ${describeThresholds(thresholds)}.\n`,
    );
    return EXIT.ok;
  });
}

function directionOf(text: string): QuotaDirection {
  if (!QUOTA_DIRECTIONS.includes(text as QuotaDirection)) throw new UsageError(`--direction must be down, up or total, not '${sanitizeText(text, 20)}'.`);
  return text as QuotaDirection;
}

function quotaIdOf(command: string, idText: string | undefined): number {
  const id = idText !== undefined && /^\d+$/.test(idText.trim()) ? Number(idText.trim()) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw new UsageError(`${command}: '${sanitizeText(String(idText), 20)}' is not a quota id.`, 'See the ids with `lantop quota list`.');
  return id;
}

// ---- quota edit ---------------------------------------------------------------------------------

/**
 * Changes a quota in place (QuotaStore.updateQuota: the id stays; crossings of thresholds that still
 * exist are kept). What is not given stays; `--notify` replaces the notify percents, `--block` and
 * `--no-block` set the block at 100 %, `--cycle-day` alone moves a billing cycle's start day.
 */
export function runQuotaEdit(services: Services, idText: string | undefined, options: QuotaEditOptions): number {
  const key = routerKeyOf(services);
  const id = quotaIdOf('quota edit', idText);
  const given = (['limit', 'direction', 'period', 'cycleDay', 'notify', 'block'] as const).filter((k) => options[k] !== undefined);
  if (given.length === 0) throw new UsageError(`quota edit ${id}: say what to change.`, 'Give --limit, --direction, --period, --cycle-day, --notify or --block/--no-block.');
  const limitBytes = options.limit === undefined ? undefined : parsed('--limit', () => parseSize(options.limit!));
  const direction = options.direction === undefined ? undefined : directionOf(options.direction);
  const cycleDay = options.cycleDay === undefined ? undefined : parsed('--cycle-day', () => cycleDayOf(options.cycleDay!));
  const notify = options.notify === undefined ? undefined : parsed('--notify', () => options.notify!.map(parsePercent));
  if (notify !== undefined && notify.length === 0) throw new UsageError('--notify needs a percent.');
  return withStore(services, (store) => {
    const quota = store.quotas.getQuota(id);
    if (quota === null || quota.routerKey !== key) throw new UsageError(`No quota ${id} for ${key}.`, 'See the ids with `lantop quota list`.');
    let period = quota.period;
    if (options.period !== undefined || cycleDay !== undefined) {
      // `--cycle-day` alone keeps a billing cycle and moves its start day.
      const text = options.period ?? (quota.period.kind === 'cycle' ? 'cycle' : formatQuotaPeriod(quota.period));
      period = parsed('--period', () => parseQuotaPeriod(text, cycleDay));
    }
    const notifyPercents = notify ?? quota.thresholds.filter((t) => t.notify).map((t) => t.percent);
    const block = options.block ?? quota.thresholds.some((t) => t.block);
    const thresholds = parsed('--notify', () => buildThresholds(notifyPercents, block));
    const edited = store.quotas.updateQuota(key, id, { limitBytes: limitBytes ?? quota.limitBytes, direction: direction ?? quota.direction, period, thresholds });
    if (edited === null) throw new UsageError(`No quota ${id} for ${key}: it was removed meanwhile.`);
    const hosts = knownHostsOf(store, key);
    services.io.stdout.write(
      `Quota ${id} changed: ${subjectName(edited.subject, hosts)}, ${formatBytes(edited.limitBytes)} ${edited.direction} per ${formatQuotaPeriod(edited.period)}; ${describeThresholds(edited.thresholds)}.\n`,
    );
    return EXIT.ok;
  });
}

function cycleDayOf(text: string): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 31) throw new RangeError(`the billing day must be 1..31, got "${text.trim()}"`);
  return n;
}

// ---- quota list ---------------------------------------------------------------------------------

interface QuotaRow {
  usage: QuotaUsage;
  who: string;
  nowMs: number;
}

const quotaColumns: Column<QuotaRow>[] = [
  { header: 'ID', value: (r) => String(r.usage.quota.id), align: 'right', priority: 9 },
  { header: 'WHO', value: (r) => r.who, maxWidth: 32, priority: 9 },
  { header: 'LIMIT', value: (r) => `${formatBytes(r.usage.limitBytes)} ${r.usage.quota.direction}`, priority: 8 },
  { header: 'PERIOD', value: (r) => formatQuotaPeriod(r.usage.quota.period), priority: 7 },
  { header: 'USED', value: (r) => formatBytes(r.usage.usedBytes), align: 'right', priority: 8 },
  { header: 'LEFT', value: (r) => formatBytes(r.usage.leftBytes), align: 'right', priority: 6 },
  { header: '%', value: (r) => `${r.usage.percent.toFixed(1)}`, align: 'right', priority: 8 },
  { header: 'RESETS', value: (r) => (r.usage.resetMs === null ? '–' : `${localTime(r.usage.resetMs)} (${timeUntil(r.usage.resetMs - r.nowMs)})`), priority: 5 },
  { header: 'ACTIONS', value: (r) => describeThresholds(r.usage.quota.thresholds), priority: 3 },
];

/** The JSON of one quota's usage (`quota list --json`); docs/quotas.md documents it. */
export function quotaUsageJson(usage: QuotaUsage, name: string) {
  const q: Quota = usage.quota;
  return {
    id: q.id,
    subject: q.subject,
    name,
    limitBytes: q.limitBytes,
    direction: q.direction,
    period: formatQuotaPeriod(q.period),
    periodSpec: q.period,
    thresholds: q.thresholds,
    usedBytes: usage.usedBytes,
    leftBytes: usage.leftBytes,
    percent: Math.round(usage.percent * 10) / 10,
    windowStartMs: usage.startMs,
    resetMs: usage.resetMs,
    reset: usage.resetMs === null ? null : new Date(usage.resetMs).toISOString(),
    crossed: usage.crossed.map((t) => t.percent),
    isOver: usage.isOver,
    createdMs: q.createdMs,
  };
}

export function runQuotaList(services: Services, options: { json?: boolean }): number {
  const key = routerKeyOf(services);
  return withStore(services, (store) => {
    const nowMs = services.clock.now();
    const routerId = store.findRouter(key);
    const hosts = routerId === null ? [] : store.quotas.knownHosts(routerId);
    const usages = evaluateQuotas(store.quotas, routerId, store.quotas.listQuotas(key), nowMs);
    const out = services.io.stdout;
    if (options.json) {
      const quotas = usages.map((u) => quotaUsageJson(u, subjectName(u.quota.subject, hosts)));
      out.write(JSON.stringify({ router: key, atMs: nowMs, quotas }, null, 2) + '\n');
    } else if (usages.length === 0) {
      out.write(`No quotas for ${key}. Add one with \`lantop quota add DEVICE|PERSON|line --limit SIZE --period PERIOD\`.\n`);
    } else {
      const rows = usages.map((usage) => ({ usage, who: subjectName(usage.quota.subject, hosts), nowMs }));
      out.write(renderTable(rows, quotaColumns, services.io.stdout.columns));
      if (routerId === null) out.write(`(no history for ${key} yet: usage counts from the first recorded poll)\n`);
    }
    return EXIT.ok;
  });
}

// ---- quota remove -------------------------------------------------------------------------------

export function runQuotaRemove(services: Services, idText: string | undefined): number {
  const key = routerKeyOf(services);
  const id = quotaIdOf('quota remove', idText);
  return withStore(services, (store) => {
    if (!store.quotas.removeQuota(key, id)) throw new UsageError(`No quota ${id} for ${key}.`, 'See the ids with `lantop quota list`.');
    services.io.stdout.write(`Quota ${id} removed.\n`);
    return EXIT.ok;
  });
}

// ---- persons ------------------------------------------------------------------------------------

export function runPersonAdd(services: Services, nameText: string | undefined, devices: readonly string[]): number {
  const key = routerKeyOf(services);
  if (nameText === undefined) throw new UsageError('person add needs a NAME and at least one DEVICE.');
  const name = checkPersonName(nameText);
  if (devices.length === 0) throw new UsageError(`person add ${sanitizeText(name, 40)}: name at least one device.`, 'Give MACs, addresses or names as `lantop hosts` shows them.');
  return withStore(services, (store) => {
    const hosts = knownHostsOf(store, key);
    // Every device is resolved before anything is written.
    const identities = [...new Set(devices.map((d) => resolveDevice(d, hosts)))];
    const isNew = store.quotas.getPerson(key, name) === null;
    const person = store.quotas.addPerson(key, { name, identities }, services.clock.now());
    const names = person.identities.map((i) => nameOfIdentity(i, hosts));
    services.io.stdout.write(`${isNew ? 'Person added' : 'Devices added'}: ${sanitizeText(name, 40)} = ${names.join(', ')}.\n`);
    return EXIT.ok;
  });
}

export function runPersonList(services: Services, options: { json?: boolean }): number {
  const key = routerKeyOf(services);
  return withStore(services, (store) => {
    const hosts = knownHostsOf(store, key);
    const persons = store.quotas.listPersons(key);
    const out = services.io.stdout;
    if (options.json) {
      const list = persons.map((p) => ({
        name: p.name,
        identities: p.identities,
        devices: p.identities.map((identity) => {
          const host = hosts.find((h) => h.identity === identity);
          return { identity, hostname: host?.hostname ?? null, ip: host?.ip ?? null, mac: host?.mac ?? null };
        }),
      }));
      out.write(JSON.stringify({ router: key, persons: list }, null, 2) + '\n');
    } else if (persons.length === 0) {
      out.write(`No persons for ${key}. Add one with \`lantop person add NAME DEVICE…\`.\n`);
    } else {
      const rows = persons.flatMap((p) =>
        (p.identities.length > 0 ? p.identities : [null]).map((identity, i) => {
          const host = identity === null ? undefined : hosts.find((h) => h.identity === identity);
          return { name: i === 0 ? p.name : '', device: identity === null ? '(no devices)' : host ? describeHost(host) : identity };
        }),
      );
      const columns: Column<(typeof rows)[number]>[] = [
        { header: 'PERSON', value: (r) => r.name, maxWidth: 40, priority: 9 },
        { header: 'DEVICE', value: (r) => r.device, priority: 8 },
      ];
      out.write(renderTable(rows, columns, out.columns));
    }
    return EXIT.ok;
  });
}

export function runPersonRemove(services: Services, nameText: string | undefined): number {
  const key = routerKeyOf(services);
  const name = (nameText ?? '').trim();
  return withStore(services, (store) => {
    if (!store.quotas.removePerson(key, name)) throw unknownPerson(name, store.quotas.listPersons(key));
    services.io.stdout.write(`Person ${sanitizeText(name, 40)} removed.\n`);
    return EXIT.ok;
  });
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The commands, on the services `make` gives (users mode: the users history key, so a quota's
 * subjects are users).
 */
export function quotaActionsWith(make: (ctx: Parameters<Action>[0]) => Services) {
  return {
    async quotaAdd(ctx, options, [who]) {
      const o: QuotaAddOptions = { notify: strings(options.notify), block: options.block === true };
      for (const k of ['limit', 'direction', 'period', 'cycleDay'] as const) {
        const v = text(options[k]);
        if (v !== undefined) o[k] = v;
      }
      return runQuotaAdd(make(ctx), who, o);
    },
    async quotaEdit(ctx, options, [id]) {
      const o: QuotaEditOptions = {};
      for (const k of ['limit', 'direction', 'period', 'cycleDay'] as const) {
        const v = text(options[k]);
        if (v !== undefined) o[k] = v;
      }
      if (Array.isArray(options.notify)) o.notify = strings(options.notify);
      if (typeof options.block === 'boolean') o.block = options.block;
      return runQuotaEdit(make(ctx), id, o);
    },
    async quotaList(ctx, options) {
      return runQuotaList(make(ctx), { json: options.json === true });
    },
    async quotaRemove(ctx, _options, [id]) {
      return runQuotaRemove(make(ctx), id);
    },
    async personAdd(ctx, _options, [name, ...devices]) {
      return runPersonAdd(make(ctx), name, devices);
    },
    async personList(ctx, options) {
      return runPersonList(make(ctx), { json: options.json === true });
    },
    async personRemove(ctx, _options, [name]) {
      return runPersonRemove(make(ctx), name);
    },
  } satisfies Record<string, Action>;
}

/** The commands, as src/cli.ts registers them. */
export const quotaActions = quotaActionsWith(createServices);
