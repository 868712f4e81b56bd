// `lantop counter add|list|remove|reset` (issue 18, "Custom counters"): the counters live in the
// history database, per router (`host:port`, as quotas), so no router login is needed here. They
// reach the router with the next `lantop setup`, or within a poll or two of a running lantop that
// keeps the rules in sync (the router client reads them from the database: app/counter-source.ts).
// The name is lantop's own and never sent to the router; the rules carry a hash of the matches.
// `reset` is an epoch on this PC, never `-Z` on the router: totals count from the next read after
// it, and the per-minute history keeps every byte.
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { counterKey, counterId, isCounterName } from '../domain/custom-counter.js';
import { CounterAccountant, type CounterUsage } from '../domain/counter-usage.js';
import { renderTable, type Column } from '../output/table.js';
import { formatBytes, formatLocalTime } from '../output/units.js';
import type { HistoryStore } from '../store/history-store.js';
import type { StoredCounter } from '../store/counter-store.js';
import { counterSpecError, parseCounterSpec } from './counter-spec.js';
import { createServices, type Services, storedSettingsRouterKey, withHistory } from './services.js';
import type { Action } from './context.js';

const routerKeyOf = (services: Services): string => storedSettingsRouterKey(services, 'counters');
const withStore = withHistory;

function nameOf(command: string, text: string | undefined): string {
  if (text === undefined || text === '') throw new UsageError(`${command} needs the counter's name.`, 'See the names with `lantop counter list`.');
  if (!isCounterName(text)) throw new UsageError(`'${sanitizeText(text, 40)}' is not a counter name.`, 'See the names with `lantop counter list`.');
  return text;
}

const INSTALL_HINT = 'It reaches the router with `lantop setup` (or within a poll or two of a running lantop that keeps the rules in sync).';

/** `counter add NAME --chain … [matches]`: `words` are the name and the flags, as counter-spec.ts reads them. */
export function runCounterAdd(services: Services, words: readonly string[]): number {
  const parsed = parseCounterSpec(words);
  if (parsed.counter === null) throw counterSpecError(parsed.problems);
  const counter = parsed.counter;
  const key = routerKeyOf(services);
  return withStore(services, (store) => {
    const existing = store.counters.list(key);
    if (!store.counters.add(key, counter, services.clock.now())) {
      throw new UsageError(`The router ${key} already has a counter named ${counter.name}.`, `Remove it first (\`lantop counter remove ${counter.name}\`), or pick another name.`);
    }
    const twin = existing.find((s) => counterId(s.counter) === counterId(counter));
    services.io.stdout.write(`Counter ${counter.name} added: ${counterKey(counter)}${twin ? ` (the same matches as ${twin.counter.name}: one rule counts both)` : ''}.\n${INSTALL_HINT}\n`);
    return EXIT.ok;
  });
}

interface ListedCounter {
  stored: StoredCounter;
  usage: CounterUsage | null;
}

/** Each counter with its totals since reset as of the last recorded poll (the accountant's saved state). */
function listed(store: HistoryStore, key: string): { rows: ListedCounter[]; asOfMs: number | null } {
  const counters = store.counters.list(key);
  const saved = store.counters.loadState(key);
  const accountant = new CounterAccountant();
  const isRead = saved !== null && accountant.importState(saved.state, counters);
  const views = new Map((isRead ? accountant.view() : []).map((v) => [v.name, v]));
  return { rows: counters.map((stored) => ({ stored, usage: views.get(stored.counter.name) ?? null })), asOfMs: isRead ? saved.updatedMs : null };
}

/** A total that a reset after the last recorded poll has zeroed reads 0 (the next poll starts it again). */
function totalOf(row: ListedCounter): { bytes: number; packets: number } | null {
  if (row.usage === null) return null;
  if (row.stored.resetMs !== null && (row.usage.sinceMs === null || row.stored.resetMs > row.usage.sinceMs)) return { bytes: 0, packets: 0 };
  return { bytes: row.usage.bytes, packets: row.usage.packets };
}

const COLUMNS: readonly Column<ListedCounter>[] = [
  { header: 'NAME', value: (r) => r.stored.counter.name, maxWidth: 32, priority: 10 },
  { header: 'MATCH', value: (r) => counterKey(r.stored.counter), maxWidth: 90, priority: 9 },
  { header: 'BYTES', value: (r) => { const t = totalOf(r); return t === null ? '-' : formatBytes(t.bytes); }, align: 'right', priority: 8 },
  { header: 'PACKETS', value: (r) => { const t = totalOf(r); return t === null ? '-' : String(t.packets); }, align: 'right', priority: 6 },
  { header: 'SINCE', value: (r) => { const s = r.stored.resetMs ?? r.usage?.sinceMs ?? null; return s === null ? '' : formatLocalTime(s); }, priority: 5 },
];

export function runCounterList(services: Services, options: { json?: boolean }): number {
  const key = routerKeyOf(services);
  return withStore(services, (store) => {
    const { rows, asOfMs } = listed(store, key);
    const out = services.io.stdout;
    if (options.json === true) {
      const counters = rows.map((r) => {
        const c = r.stored.counter;
        const total = totalOf(r);
        return {
          name: c.name, match: counterKey(c), id: counterId(c), hook: c.hook, family: c.family,
          createdMs: r.stored.createdMs, resetMs: r.stored.resetMs, sinceMs: r.stored.resetMs ?? r.usage?.sinceMs ?? null,
          bytes: total?.bytes ?? null, packets: total?.packets ?? null,
        };
      });
      out.write(`${JSON.stringify({ schema: 1, router: key, asOfMs, counters })}\n`);
      return EXIT.ok;
    }
    if (rows.length === 0) {
      out.write(`No counters for ${key}. Add one with \`lantop counter add NAME --chain input|output|forward …\`.\n`);
      return EXIT.ok;
    }
    out.write(renderTable(rows, COLUMNS, services.io.stdout.columns));
    out.write(asOfMs === null ? 'No poll has counted them yet: run `lantop setup`, then `lantop usage`.\n' : `Totals since each counter's reset as of the last recorded poll (${formatLocalTime(asOfMs)}).\n`);
    return EXIT.ok;
  });
}

export function runCounterRemove(services: Services, nameText: string | undefined): number {
  const key = routerKeyOf(services);
  const name = nameOf('counter remove', nameText);
  return withStore(services, (store) => {
    if (!store.counters.remove(key, name)) throw new UsageError(`No counter ${name} for ${key}.`, 'See the names with `lantop counter list`.');
    services.io.stdout.write(`Counter ${name} removed (its history stays). Its rule leaves the router with \`lantop setup\` (or within a poll or two of a running lantop that keeps the rules in sync).\n`);
    return EXIT.ok;
  });
}

export function runCounterReset(services: Services, nameText: string | undefined): number {
  const key = routerKeyOf(services);
  const name = nameOf('counter reset', nameText);
  const nowMs = services.clock.now();
  return withStore(services, (store) => {
    if (!store.counters.reset(key, name, nowMs)) throw new UsageError(`No counter ${name} for ${key}.`, 'See the names with `lantop counter list`.');
    // The saved totals too, so `counter list` and a one-shot `usage` start from 0 at once.
    const saved = store.counters.loadState(key);
    const accountant = new CounterAccountant();
    if (saved !== null && accountant.importState(saved.state, store.counters.list(key)) && accountant.resetCounter(name, nowMs)) {
      store.counters.saveState(key, accountant.exportState(), saved.updatedMs);
    }
    services.io.stdout.write(`Counter ${name} reset: its totals count from now (nothing is zeroed on the router; the history keeps every minute).\n`);
    return EXIT.ok;
  });
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
/** commander's option names → the flags counter-spec.ts reads. */
const ADD_FLAGS = [['chain', '--chain'], ['in', '--in'], ['out', '--out'], ['src', '--src'], ['dst', '--dst'], ['proto', '--proto'], ['sport', '--sport'], ['dport', '--dport']] as const;

/** The commands, as app/counter-cli.ts registers them. */
export const counterActions = {
  async counterAdd(ctx, options, args) {
    // Back into words for counter-spec.ts (one parser, one set of messages); `=` keeps a value like `!198.51.100.0/24` whole.
    const words = [...args];
    for (const [option, flag] of ADD_FLAGS) {
      const v = text(options[option]);
      if (v !== undefined) words.push(`${flag}=${v}`);
    }
    return runCounterAdd(createServices(ctx), words);
  },
  async counterList(ctx, options) {
    return runCounterList(createServices(ctx), { json: options.json === true });
  },
  async counterRemove(ctx, _options, [name]) {
    return runCounterRemove(createServices(ctx), name);
  },
  async counterReset(ctx, _options, [name]) {
    return runCounterReset(createServices(ctx), name);
  },
} satisfies Record<string, Action>;
