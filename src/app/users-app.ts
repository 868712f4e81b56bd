// `lantop --mode users` without a command (issue 18): the Ink app, "the same app, with users in
// place of devices", on a UsersController (users-controller.ts). Started as the devices app is
// (actions.ts runInteractive): the connecting frame first, the login while Ink loads, the history
// database open for the app's life. Not a terminal: one plain snapshot of the users and a pointer
// to the JSON command.
import { EXIT } from '../errors.js';
import type { Snapshot } from '../domain/snapshot.js';
import { sanitizeText } from '../sanitize.js';
import { renderPlainSnapshot } from '../output/usage-table.js';
import { runInteractiveApp } from './interactive.js';
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
  // Users mode needs SSH or local mode (users-mode-gate.ts): never telnet, so no cleartext warning.
  return runInteractiveApp(ctx, services, {
    makeController: (typedServices, store) =>
      new UsersController({
        services: typedServices,
        store,
        ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
        ...(options.makeEnforcer !== undefined ? { makeEnforcer: options.makeEnforcer } : {}),
      }),
    plain: (controller) => plainUsersSnapshot(ctx, controller),
  });
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
