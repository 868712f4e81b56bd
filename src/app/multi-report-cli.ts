// `report --routers a,b` / `--all` (issue 20) on commander's `report` command: cli.ts registers it
// with one call (cli.ts is at its line limit). The options are added to the command cli.ts built,
// and its action goes to app/multi-report.ts when either is given, else to `report` as before.
import type { Command } from 'commander';
import { resolveMode, type GlobalFlags } from '../config/resolve.js';
import { actions } from './actions.js';
import type { Action } from './context.js';

type Run = (action: Action, cmd: Command, args: string[]) => Promise<void>;

export function addReportRouterOptions(program: Command, run: Run): void {
  const report = program.commands.find((c) => c.name() === 'report');
  if (report === undefined) throw new Error('addReportRouterOptions: no report command to add --routers to');
  report
    .option('--routers <profiles>', "several routers' histories in one report: comma-separated saved profile names (--all: every saved profile)")
    .option('--all', "every saved profile's history in one report")
    .action(async function (this: Command) {
      const options = this.opts();
      if (options['routers'] === undefined && options['all'] !== true) return run(actions.report, this, []);
      // run() hands a users-mode command to its users-mode action, which reads one gateway: refuse here.
      if (resolveMode(this.optsWithGlobals() as GlobalFlags, process.env) === 'users') {
        this.error('lantop: --routers/--all are not yet in users mode.\n  → Report one gateway at a time with --mode users.', { exitCode: 2, code: 'lantop.usersRouters' });
      }
      const { multiReportAction } = await import('./multi-report.js');
      return run(multiReportAction, this, []);
    });
}
