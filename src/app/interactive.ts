// Starting the Ink app on a controller (devices mode: actions.ts, users mode: users-app.ts): the
// connecting frame goes up first (before the history database opens and Ink loads), the login runs
// while Ink loads, so the menu follows soon after Ink's first frame; with no password yet, the first
// frame is Ink's prompt, and the password typed there is the one the controller logs in with. Not a
// terminal: the caller's plain output instead. The controller and the database are closed on every path.
import type { HistoryStore } from '../store/history-store.js';
import { drawFirstFrame } from '../ui/first-frame.js';
import type { CommandContext } from './context.js';
import type { Services } from './services.js';
import type { RouterController } from './types.js';

export interface InteractiveParts<C extends RouterController & { close(): Promise<void> }> {
  telnetWarning?: string;
  /** Before the controller: the demo seeds its database. */
  prepare?: (store: HistoryStore) => void;
  /** The controller on services that log in with the password typed in the app, if any. */
  makeController(services: Services, store: HistoryStore): C;
  /** stdout is not a terminal. */
  plain(controller: C): Promise<number>;
}

export async function runInteractiveApp<C extends RouterController & { close(): Promise<void> }>(ctx: CommandContext, services: Services, parts: InteractiveParts<C>): Promise<number> {
  const password = services.password;
  const { telnetWarning } = parts;
  const firstFrame = ctx.stdout.isTTY && password.isKnown ? drawFirstFrame(ctx.stdout, { label: services.label, protocol: services.settings.protocol, telnetWarning, isColor: services.settings.isColor, env: ctx.env }) : null;
  let store: HistoryStore | null = null;
  let controller: C | null = null;
  try {
    store = services.openHistory();
    parts.prepare?.(store);
    let typed: string | null = null;
    controller = parts.makeController(services.withPassword({ isKnown: password.isKnown, get: async () => typed ?? password.get() }), store);
    if (!ctx.stdout.isTTY) return await parts.plain(controller);
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
      ...(telnetWarning !== undefined ? { telnetWarning } : {}),
      hasFirstFrame: firstFrame !== null,
    });
  } finally {
    // Before any error is reported: the message must land on the main screen.
    firstFrame?.abandon();
    await controller?.close();
    store?.close();
  }
}
