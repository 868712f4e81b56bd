// `lantop service install|uninstall|status` as commander commands (issue 22, docs/service.md);
// cli.ts registers them with one call. The actions load app/service.ts when they run.
import { Option, type Command } from 'commander';
import type { Action } from './context.js';
import { addMqttOptions } from './serve-mqtt.js';

type Run = (action: Action, cmd: Command, args: string[]) => Promise<void>;

const lazy =
  (pick: 'install' | 'uninstall' | 'status'): Action =>
  async (ctx, options, args) => {
    const { serviceActions } = await import('./service.js');
    return serviceActions()[pick](ctx, options, args);
  };

export function registerServiceCommands(program: Command, run: Run): void {
  const service = program
    .command('service')
    .description('run `lantop serve` as a systemd service: install, uninstall, status (docs/service.md)')
    .exitOverride();
  // Not `--user`: that is the global router-login option, which commander reads anywhere in argv.
  const user = () => new Option('--user-unit', 'a user unit (~/.config/systemd/user, systemctl --user) instead of a system one (/etc/systemd/system)');
  service
    .command('install')
    .description('write lantop.service for the profile(s) (--profile a or --profile a,b; saved password or --password-file FILE, mode 0600, never in the unit), then enable and start it')
    .addOption(user())
    .option('--listen <host:port>', "serve's address (beyond loopback needs `lantop serve token` first)", '127.0.0.1:9464')
    .option('--dry-run', 'print the unit (stdout) and what would be written and run (stderr); change nothing');
  // serve's MQTT flags go into the unit as given (the password only as --mqtt-password-file).
  addMqttOptions(service.commands.at(-1)!).action(async function (this: Command) {
    await run(lazy('install'), this, []);
  });
  service
    .command('uninstall')
    .description('stop and disable lantop.service, remove the unit file, reload systemd')
    .addOption(user())
    .option('--dry-run', 'print what would be run and removed; change nothing')
    .action(async function (this: Command) {
      await run(lazy('uninstall'), this, []);
    });
  service
    .command('status')
    .description('is the unit file there, and what systemctl is-active / is-enabled say')
    .addOption(user())
    .action(async function (this: Command) {
      await run(lazy('status'), this, []);
    });
}
