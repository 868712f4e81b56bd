// The commands of users mode (issue 18, `--mode users`): usage (one-shot or --watch, table or
// JSON), setup (one poll now: the chain, its jumps and the live sessions' rules) and teardown (the
// chain and its jumps out again). usage installs and keeps the rules itself on every poll, so setup
// is only needed to start counting before the first usage run. Every other command answers that it
// does not work in users mode yet (users-mode-gate.ts).
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { MIN_INTERVAL_MS } from '../domain/poller.js';
import type { Snapshot } from '../domain/snapshot.js';
import { renderPlainSnapshot } from '../output/usage-table.js';
import { usersJson, usersTableSnapshot } from '../output/users-json.js';
import { snapshotCsv } from '../output/json.js';
import { confirm, withRouter } from './commands.js';
import type { OpenRouter } from './open-router.js';
import type { Services } from './services.js';
import { UsersPoller, type UsersPollResult } from './users-mode.js';
import { UsersHistory } from './users-history.js';
import { shellLine } from '../router/backends/iptables/user-chain.js';
import { usersPollerFor } from './users-poller-for.js';
import { usersEnforcerFor } from './user-deny.js';

function render(services: Services, poller: UsersPoller, result: UsersPollResult, options: { json?: boolean; csv?: boolean; byFamily?: boolean; isFirst: boolean }): string {
  const users = poller.accountant.users();
  if (options.json) return JSON.stringify(usersJson(result.snapshot, users, { self: result.self, logFile: result.logFile }, { byFamily: options.byFamily === true })) + '\n';
  if (options.csv) return snapshotCsv(result.snapshot, options.isFirst, { byFamily: options.byFamily === true });
  const table = renderPlainSnapshot(usersTableSnapshot(result.snapshot, users), services.io.stdout.columns ?? 100);
  const self = result.self === null ? '' : `; lantop's own login (${result.self.ip} port ${result.self.port}) is not counted`;
  return `${table}\nusers mode: ${users.length} user(s), ${users.reduce((n, u) => n + u.liveSessions, 0)} live session(s) on ${services.label}${self}\n`;
}

export async function runUsersUsage(services: Services, options: { json?: boolean; csv?: boolean; byFamily?: boolean; watch?: boolean; interval?: string; count?: string }): Promise<number> {
  const intervalMs = Number(options.interval ?? 2000);
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS) throw new UsageError(`--interval must be a whole number of milliseconds ≥ ${MIN_INTERVAL_MS}.`);
  const count = options.count === undefined ? (options.watch ? Infinity : 2) : Number(options.count);
  if (!(count === Infinity || (Number.isInteger(count) && count >= 1))) throw new UsageError('--count must be a whole number ≥ 1.');
  return withRouter(services, async (router) => {
    const poller = usersPollerFor(services, router);
    // Recorded per user, per minute, under the gateway's users key (app/users-history.ts).
    const store = services.openHistory();
    const history = new UsersHistory(store, services.key, services.clock);
    // Quotas on users act here too: a crossing alerts and, where the quota says so, denies (user-deny.ts).
    const alerts = services.openAlerts((text) => services.io.stderr.write(`note: ${text}\n`));
    const enforcer = usersEnforcerFor(services, { router, poller, store, sink: alerts, onNotice: (n) => services.io.stderr.write(`note: ${n.text}\n`) });
    let stop = false;
    const onSignal = () => {
      stop = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let last: Snapshot | null = null;
    try {
      for (let i = 0; i < count && !stop; i++) {
        const started = services.clock.now();
        let result: UsersPollResult;
        try {
          const polled = await history.poll(poller);
          result = polled.result;
          enforcer.afterPoll(result.snapshot, polled.isWriter);
        } catch (error) {
          // --watch rides out a lost connection (the session logs in again on the next poll).
          if (!options.watch || !(error instanceof Error)) throw error;
          services.io.stderr.write(`note: poll failed: ${sanitizeText(error.message, 300)} (trying again)\n`);
          await new Promise((resolve) => setTimeout(resolve, intervalMs));
          continue;
        }
        const isLast = i + 1 >= count;
        // The last one with the quota state of a finished evaluation.
        if (isLast) await enforcer.idle();
        const pollNotices = result.snapshot.notices;
        result = { ...result, snapshot: enforcer.decorate(result.snapshot) };
        last = result.snapshot;
        if (options.watch || isLast) services.io.stdout.write(render(services, poller, result, { ...options, isFirst: i === 0 || !options.watch }));
        if (!options.json) for (const n of pollNotices) if (n.level !== 'info') services.io.stderr.write(`note: ${n.text}\n`);
        if (isLast || stop) break;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (services.clock.now() - started))));
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      enforcer.close();
      await enforcer.idle();
      await alerts?.close(2000);
      history.close();
      store.close();
    }
    return last === null ? EXIT.unreachable : EXIT.ok;
  });
}

/** `setup --mode users`: one poll now (with --dry-run: what it would send). */
export async function runUsersSetup(services: Services, options: { dryRun?: boolean }): Promise<number> {
  return withRouter(services, async (router) => {
    const poller = usersPollerFor(services, router);
    if (options.dryRun) {
      const planned = await poller.poll({ apply: false });
      services.io.stdout.write(planned.commands.length === 0 ? '' : planned.commands.join('\n') + '\n');
      if (planned.commands.length === 0) services.io.stderr.write(`Nothing to do: ${poller.backend.where} already counts the live sessions.\n`);
      return EXIT.ok;
    }
    // Recorded like a usage poll: a session that ended since is read a last time here, then its rules go.
    const store = services.openHistory();
    const history = new UsersHistory(store, services.key, services.clock);
    let result: UsersPollResult;
    try {
      result = (await history.poll(poller)).result;
    } finally {
      history.close();
      store.close();
    }
    for (const n of result.snapshot.notices) services.io.stderr.write(`note: ${n.text}\n`);
    services.io.stderr.write(`Users mode: ${result.commands.length} command(s) applied; ${poller.backend.where} counts ${poller.tracker.sessions().length} session(s). \`lantop usage --mode users\` keeps it in step with the sessions; \`lantop teardown --mode users\` removes it.\n`);
    return EXIT.ok;
  });
}

/** `teardown --mode users`: the users chain and its jumps out of both families. */
export async function runUsersTeardown(services: Services, options: { dryRun?: boolean; yes?: boolean }): Promise<number> {
  return withRouter(services, async (router) => {
    const poller = usersPollerFor(services, router);
    const commands = await poller.planRemoval();
    const io = services.io;
    const lines = commands.map(shellLine);
    if (commands.length === 0) {
      io.stderr.write(`Nothing to do: the gateway has no ${poller.backend.kind === 'nftables' ? 'users table' : 'users chain'} (teardown).\n`);
      return EXIT.ok;
    }
    if (options.dryRun) {
      io.stdout.write(lines.join('\n') + '\n');
      return EXIT.ok;
    }
    if (!options.yes) {
      if (!io.stdin.isTTY) throw new UsageError(`Refusing to change the gateway without confirmation (${commands.length} command(s)).`, 'Review them with `lantop teardown --mode users --dry-run`, then pass --yes.');
      io.stderr.write(lines.map((c) => `  ${c}`).join('\n') + '\n');
      if (!(await confirm(io, `Send these ${commands.length} command(s) to ${services.label}?`))) {
        io.stderr.write('Cancelled; nothing was changed.\n');
        return EXIT.ok;
      }
    }
    // A last reading first, recorded: the bytes since the last poll go into the history, not away with the rules.
    const store = services.openHistory();
    const history = new UsersHistory(store, services.key, services.clock);
    try {
      await history.poll(poller, { apply: false });
    } finally {
      history.close();
      store.close();
    }
    const applied = await poller.send(commands);
    io.stderr.write(`Removed: ${applied.length} command(s) applied (${poller.backend.where}, out); the last reading is in the history.\n`);
    return EXIT.ok;
  });
}
