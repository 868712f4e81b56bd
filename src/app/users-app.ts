// `lantop --mode users` without a command (issue 18): the Ink app, "the same app, with users in
// place of devices", on a UsersController (users-controller.ts). Started as the devices app is
// (actions.ts runInteractive): the connecting frame first, the login while Ink loads, the history
// database open for the app's life. Not a terminal: one plain snapshot of the users and a pointer
// to the JSON command.
import { EXIT } from '../errors.js';
import type { Snapshot } from '../domain/snapshot.js';
import { sanitizeText } from '../sanitize.js';
import { renderPlainSnapshot } from '../output/usage-table.js';
import { drawFirstFrame } from '../ui/first-frame.js';
import type { HistoryStore } from '../store/history-store.js';
import type { QuotaEnforcer } from './quota-enforcer.js';
import type { CommandContext } from './context.js';
import type { Services } from './services.js';
import { UsersController, type UsersEnforcerParts } from './users-controller.js';

export interface UsersAppOptions {
  /** Between polls (default: the controller's, 2 s). */
  intervalMs?: number;
  /** Deny over quota for this gateway, built once logged in; absent or null: not set up. */
  makeEnforcer?: (parts: UsersEnforcerParts) => QuotaEnforcer | null;
}

export async function runUsersApp(ctx: CommandContext, services: Services, options: UsersAppOptions = {}): Promise<number> {
  const password = services.password;
  // Users mode needs SSH or local mode (users-mode-gate.ts): never telnet, so no cleartext warning.
  const firstFrame = ctx.stdout.isTTY && password.isKnown ? drawFirstFrame(ctx.stdout, { label: services.label, protocol: services.settings.protocol, isColor: services.settings.isColor, env: ctx.env }) : null;
  let store: HistoryStore | null = null;
  let controller: UsersController | null = null;
  try {
    store = services.openHistory();
    let typed: string | null = null;
    controller = new UsersController({
      services: services.withPassword({ isKnown: password.isKnown, get: async () => typed ?? password.get() }),
      store,
      ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
      ...(options.makeEnforcer !== undefined ? { makeEnforcer: options.makeEnforcer } : {}),
    });
    if (!ctx.stdout.isTTY) return await plainUsersSnapshot(ctx, controller);
    const ui = import('../ui/run-app.js');
    if (password.isKnown) controller.connect().catch(() => undefined /* the connect screen shows it */);
    const { runApp } = await ui;
    firstFrame?.handOver();
    return await runApp({
      controller,
      stdin: ctx.stdin,
      stdout: ctx.stdout,
      stderr: ctx.stderr,
      isColor: services.settings.isColor,
      needsPassword: !password.isKnown,
      onPassword: (pw) => {
        typed = pw;
      },
      hasFirstFrame: firstFrame !== null,
    });
  } finally {
    // Before any error is reported: the message must land on the main screen.
    firstFrame?.abandon();
    await controller?.close();
    store?.close();
  }
}

/**
 * Not a terminal: the second poll's users (the first one puts the rules in and reads from 0), as
 * the plain table, and where scripts should look instead.
 */
export async function plainUsersSnapshot(ctx: Pick<CommandContext, 'stdout' | 'stderr'>, controller: UsersController): Promise<number> {
  await controller.connect();
  const snapshot = await new Promise<Snapshot>((resolve) => {
    let n = 0;
    const stop = controller.watch((s) => {
      n += 1;
      if (n >= 2 || s.connection.kind !== 'connected') {
        queueMicrotask(() => stop());
        resolve(s);
      }
    });
  });
  if (snapshot.connection.kind !== 'connected') {
    for (const n of snapshot.notices) ctx.stderr.write(`note: ${sanitizeText(n.text, 300)}\n`);
    return EXIT.unreachable;
  }
  ctx.stdout.write(renderPlainSnapshot(snapshot, 100) + '\n');
  ctx.stderr.write('(stdout is not a terminal: for scripts use `lantop --mode users usage --json`)\n');
  return EXIT.ok;
}
