#!/usr/bin/env node
// The entry point: argv → a plain command or the Ink app, and errors → exit codes. The services a
// command uses come from one composition root (app/services.ts); nothing below this file reads
// process.argv or decides exit codes.
import './production-env.js';
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, LantopError, RouterError, exitCodeOf } from './errors.js';
import { actions } from './app/actions.js';
import { quotaActions } from './app/quota-commands.js';
import { alertActions } from './app/alert-commands.js';
import { blockActions } from './app/block-commands.js';
import { topActions } from './app/top-command.js';
import { commandWords, usersModeAction } from './app/users-mode-gate.js';
import { scheduleActions } from './app/report-schedule-commands.js';
import { registerServiceCommands } from './app/service-cli.js';
import { registerCounterCommands } from './app/counter-cli.js';
import { addReportRouterOptions } from './app/multi-report-cli.js';
import { addMqttOptions } from './app/serve-mqtt.js';
import { APP_ROUTERS_HELP } from './app/multi-app-help.js';
import { PROFILE_KEYS } from './config/profiles.js';
import { sanitizeText } from './sanitize.js';
import type { GlobalFlags } from './config/resolve.js';
import type { Action, CommandContext } from './app/context.js';

const require = createRequire(import.meta.url);
const { version } = require('../package.json') as { version: string };


function buildProgram(run: (action: Action, cmd: Command, args: string[]) => Promise<void>): Command {
  const program = new Command('lantop')
    .description('Who on my network is eating the bandwidth? Per-host traffic accounting for consumer routers (telnet/SSH + iptables).')
    .version(version, '-V, --version')
    .option('--host <address>', 'router address, or local: this machine (env LANTOP_HOST)')
    .option('--port <n>', 'router port (default 23 for telnet, 22 for ssh; env LANTOP_PORT)')
    .addOption(new Option('--protocol <protocol>', 'telnet, ssh or local (this machine, as root or via sudo -n; env LANTOP_PROTOCOL; default telnet)').choices(['telnet', 'ssh', 'local']))
    .option('--user <name>', 'login user (env LANTOP_USER; default admin)')
    .option('--password-env <VAR>', 'read the password from this environment variable', 'LANTOP_PASSWORD')
    .option('--password-file <path>', 'read the password from the first line of this file')
    .option('--wan <iface>', "WAN interface on the router, or 'auto' for the default route's (env LANTOP_WAN; default ppp0)")
    .option('--firmware <family>', 'skip detection and treat the router as this family (detection probes what the router answers; see `lantop doctor`)')
    .addOption(new Option('--mode <mode>', 'devices (per LAN device) or users (per SSH user of a Linux gateway, docs/users-mode.md; env LANTOP_MODE)').choices(['devices', 'users']))
    .addOption(new Option('--backend <name>', 'count with iptables or nftables where the router has both (env LANTOP_BACKEND; default: iptables where it exists, else nftables)').choices(['iptables', 'nftables']))
    .option('--redetect', 'probe the router again instead of reusing what an earlier run learned about it')
    .option('--trace <file>', 'write a transcript of the router dialogue to FILE (password masked, router text sanitised) for a bug report')
    .option('--profile <name>', 'use this saved router profile (env LANTOP_PROFILE; default "default")')
    .option('--max-bandwidth <Mbit/s>', 'top speed of the line per direction; a counter jump beyond it is discarded and reported (env LANTOP_MAX_BANDWIDTH; default 1000)')
    .option('--timeout <ms>', 'connect and command timeout in milliseconds (default 10000)')
    .option('--db <path>', 'history database (env LANTOP_DB; default in the XDG data directory)')
    .option('--no-color', 'disable colour (NO_COLOR is honoured too)')
    .option('--accept-host-key <fingerprint>', 'SSH: trust this host key (SHA256:…) after a legitimate change, and pin it')
    .option('--debug', 'show stack traces for unexpected errors')
    .showHelpAfterError('(run `lantop --help` for usage)')
    .exitOverride();

  // The app's own words (an unknown command; issue 20's --routers/--all) are read by app/multi-app.ts.
  program.allowExcessArguments(true).allowUnknownOption().addHelpText('after', APP_ROUTERS_HELP).action(async function (this: Command) {
    await run(actions.app, this, this.args);
  });

  const sub = (name: string, description: string) => program.command(name).description(description).exitOverride();

  sub('demo', 'start the built-in emulated router and run lantop against it (no real router needed)')
    .addOption(new Option('--offload <mode>', "the emulated router's fast path (Broadcom flow cache, OpenWrt flow offloading): on makes per-device counters miss most forwarded packets, as on real routers").choices(['on', 'off']).default('off'))
    .action(async function (this: Command) {
    await run(actions.demo, this, []);
  });
  sub('doctor', 'read-only check: connect, probe, and explain what lantop detected, where each command runs and what setup would do; writes a transcript')
    .option('--transcript <file>', 'where to write the transcript (default: lantop-doctor-<time>.txt in the current directory)')
    .option('--json', 'machine-readable report')
    .action(async function (this: Command) {
      await run(actions.doctor, this, []);
    });
  sub('hosts', 'list the hosts the router reports (ARP + DHCP names)')
    .option('--json', 'machine-readable output')
    .option('--csv', 'CSV output')
    .action(async function (this: Command) {
      await run(actions.hosts, this, []);
    });
  // Drill-down (issue 19, docs/drill-down.md).
  sub('top [device]', "what a device is doing: its connections from the router's connection table (remote, port, protocol, bytes, rates); no rules added")
    .option('--json', 'machine-readable output (with --watch: one object per line)')
    .option('--interval <ms>', 'time between the two reads that give the rates (and between --watch reads)', '1000')
    .addOption(new Option('--group <by>', 'group the connections').choices(['connections', 'remote', 'port', 'protocol']).default('connections'))
    .addOption(new Option('--sort <by>', 'sort by bytes (both ways) or by rate').choices(['bytes', 'rate']).default('bytes'))
    .option('--limit <n>', 'show at most N rows (plain output)', '25')
    .option('--watch', 'keep reading until Ctrl-C')
    .option('--count <n>', 'stop after N reads')
    .option('--enable-accounting', "turn the router's connection accounting on first (nf_conntrack_acct=1; asks unless --yes)")
    .option('--yes', 'with --enable-accounting: do not ask')
    .action(async function (this: Command) {
      await run(topActions.top, this, this.args);
    });
  // Blocking (issue 16, docs/blocking.md).
  sub('block [device]', "block a device's forwarded traffic for a time (DEVICE: MAC, address or name as `hosts` shows it)")
    .option('--for <duration>', 'how long, e.g. 90s, 20m, 2h, 1h30m')
    .option('--until <time>', 'until HH:MM (local) or an ISO date-time')
    .option('--list', 'list the blocks on the router (expired ones are removed) and the audit log')
    .option('--json', 'with --list: machine-readable output')
    .action(async function (this: Command) {
      await run(blockActions.block, this, this.args);
    });
  sub('unblock [device]', 'lift the block of a device, or every block with --all')
    .option('--all', 'lift every block')
    .action(async function (this: Command) {
      await run(blockActions.unblock, this, this.args);
    });
  for (const [name, description] of [
    ['setup', "create the TRAFFIC chain, the FORWARD jump and per-host accounting rules, and the counters of the router's own WAN traffic (TRAFFIC_IN/TRAFFIC_OUT)"],
    ['flush', "empty lantop's chains (chains and jumps stay; setup re-adds rules)"],
    ['teardown', "remove lantop's jumps and chains, nothing else"],
  ] as const) {
    const cmd = sub(name, description)
      .option('--dry-run', 'print the exact commands and change nothing')
      .option('--yes', 'do not ask for confirmation');
    if (name === 'setup') {
      cmd.option('--adopt', 'take over an existing TRAFFIC chain with rules lantop did not write');
      cmd.option('--ports <list>', 'also count traffic by service port over time, e.g. 80,443,udp/53 (a bare port: tcp and udp); replaces the classes counted now (docs/drill-down.md)');
      cmd.option('--protocols <list>', 'also count traffic by protocol: tcp, udp, icmp, icmpv6, gre, esp, sctp');
      cmd.option('--no-classes', 'remove every port/protocol counter (without --ports/--protocols, setup keeps those in place)');
      cmd.addOption(new Option('--layout <layout>', 'layout: iptables flat (two rules per host in TRAFFIC), split (per-direction sub-chains) or tree (a chain per address group); nftables dynamic-sets (sets filled by forwarded traffic), static-sets or rules; default: what the router has, else split (tree from 33 hosts) / dynamic-sets').choices(['flat', 'split', 'tree', 'dynamic-sets', 'static-sets', 'rules']));
    }
    cmd.action(async function (this: Command) {
      await run(actions[name], this, []);
    });
  }
  sub('usage', 'show live per-host usage')
    .option('--json', 'JSON (with --watch: one object per line)')
    .option('--csv', 'CSV output')
    .option('--by-family', 'with --json/--csv: add the IPv4 and IPv6 parts of every number')
    .option('--watch', 'keep polling')
    .option('--interval <ms>', 'poll interval in milliseconds (minimum 500)', '2000')
    .option('--count <n>', 'stop after N polls')
    .option('--routers <profiles>', 'several routers in one view: comma-separated saved profile names (--all: every saved profile)').option('--all', 'every saved profile in one view')
    .action(async function (this: Command) {
      await run(actions.usage, this, []);
    });
  sub('report', 'show usage history')
    .addOption(new Option('--period <period>', 'time period').choices(['today', 'yesterday', 'week', 'month', 'cycle', 'all']).default('today'))
    .option('--since <date>', 'start of a custom range (YYYY-MM-DD or ISO time)')
    .option('--until <date>', 'end of a custom range (exclusive)')
    .option('--cycle-day <n>', 'first day of the billing cycle (with --period cycle)', '1')
    .option('--json', 'JSON output')
    .option('--csv', 'CSV output')
    .option('--by-family', 'with --json/--csv: add the IPv4 and IPv6 parts of every number')
    .option('--counters', "with --csv: the custom counters' CSV (name,match,bytes,packets) instead of the hosts'")
    .option('--html <file>', 'write one self-contained HTML report with charts to FILE (- for stdout; docs/reports.md)')
    .option('--open', 'with --html: open the report in the default browser')
    .action(async function (this: Command) {
      await run(actions.report, this, []);
    });
  // Scheduled reports (issue 17, docs/reports.md "Scheduled reports"): schedules in reports.json,
  // sent by `lantop serve` through alert channels. A top-level command: under `report`, report's own
  // options (--period, --json) would take the subcommands' flags.
  const schedule = sub('schedule', 'scheduled reports (daily, weekly, monthly, billing cycle or cron) that `lantop serve` sends by email or webhook');
  schedule
    .command('add <name>')
    .description('add a report schedule; it goes through alert channels (see `lantop alert list`)')
    .option('--every <when>', "daily (00:05, yesterday), weekly (Monday 00:05, last week), monthly (the 1st, last month), cycle:N (day N, the billing cycle that ended) or a cron expression in quotes ('0 7 * * 1')")
    .option('--covers <period>', 'with a cron expression: report this period (daily, weekly, monthly, cycle:N) instead of the time since the previous report')
    .option('--channel <ids>', 'alert channel id(s), comma-separated or repeated', (value: string, all: string[] = []) => [...all, value])
    .addOption(new Option('--as <layout>', 'email: the HTML report as attachment, as the mail body, or both (a text summary is always included)').choices(['attachment', 'body', 'both']).default('attachment'))
    .option('--router <profile>', 'only this saved profile (default: every router serve watches)')
    .action(async function (this: Command) {
      await run(scheduleActions.scheduleAdd, this, this.args);
    });
  schedule
    .command('list')
    .description('list the report schedules and when each is next due')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command) {
      await run(scheduleActions.scheduleList, this, []);
    });
  schedule.command('remove <name>').description('remove a report schedule').action(async function (this: Command) {
    await run(scheduleActions.scheduleRemove, this, this.args);
  });
  schedule
    .command('send <name>')
    .description("send a schedule's report now, for testing (not recorded: serve still sends its own)")
    .option('--period <period>', 'last (default: what it last covered), current, daily, weekly, monthly, cycle:N or a day YYYY-MM-DD')
    .action(async function (this: Command) {
      await run(scheduleActions.scheduleSend, this, this.args);
    });
  // Quotas and persons (issue 16, docs/quotas.md).
  const quota = sub('quota', 'limits on what a device, a person or the whole line may use in a period (docs/quotas.md)');
  quota
    .command('add <who>')
    .description('add a quota: WHO is a device (MAC, address or name as `hosts` shows it), a person, or `line`')
    .requiredOption('--limit <size>', 'the limit: bytes, or kB/MB/GB/TB (×1000), KiB/MiB/GiB/TiB (×1024), e.g. 50GB')
    .addOption(new Option('--direction <direction>', 'what counts').choices(['down', 'up', 'total']).default('total'))
    .requiredOption('--period <period>', 'day, week, month, cycle (with --cycle-day N) or cycle:N, or a rolling Nh / Nm')
    .option('--cycle-day <n>', 'first day of the billing cycle (with --period cycle)')
    .option('--notify <pct>', 'notify when this percent is reached (repeatable; default 80 and 100)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--block', 'also block the device(s) at 100 % until the period ends')
    .action(async function (this: Command) {
      await run(quotaActions.quotaAdd, this, this.args);
    });
  quota
    .command('edit <id>')
    .description('change a quota in place (its id stays; what you do not give stays as it is)')
    .option('--limit <size>', 'the new limit, as for `quota add`')
    .addOption(new Option('--direction <direction>', 'what counts').choices(['down', 'up', 'total']))
    .option('--period <period>', 'the new period, as for `quota add`')
    .option('--cycle-day <n>', 'first day of the billing cycle (alone: moves a cycle quota\'s start day)')
    .option('--notify <pct>', 'notify at these percents instead (repeatable)', (value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .option('--block', 'block the device(s) at 100 %')
    .option('--no-block', 'no longer block at 100 %')
    .action(async function (this: Command) {
      await run(quotaActions.quotaEdit, this, this.args);
    });
  quota
    .command('list')
    .description('list the quotas with what is used and left now, from the history')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command) {
      await run(quotaActions.quotaList, this, []);
    });
  quota
    .command('remove <id>')
    .description('remove a quota (see the ids in `quota list`)')
    .action(async function (this: Command) {
      await run(quotaActions.quotaRemove, this, this.args);
    });
  const person = sub('person', 'named groups of devices ("Ben" = laptop + phone) that a quota can limit together');
  person
    .command('add <name> <devices...>')
    .description('add a person with these devices (or add devices to one)')
    .action(async function (this: Command) {
      await run(quotaActions.personAdd, this, this.args);
    });
  person
    .command('list')
    .description('list the persons and their devices')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command) {
      await run(quotaActions.personList, this, []);
    });
  person
    .command('remove <name>')
    .description('remove a person (refused while a quota is set on them)')
    .action(async function (this: Command) {
      await run(quotaActions.personRemove, this, this.args);
    });
  // The live page and the exporter (issues 9, 17; docs/web.md): read-only; beyond loopback only with the token.
  const serve = sub('serve', 'live web page for the household and Prometheus exporter: poll the router(s), serve / (live table, charts), /api, /metrics and /healthz; SIGHUP reloads the configuration')
    .option('--listen <host:port>', 'address to listen on (loopback unless you ask; beyond loopback needs `lantop serve token` first)', '127.0.0.1:9464')
    .option('--interval <ms>', 'poll interval in milliseconds (minimum 500)', '2000')
    .option('--routers <profiles>', 'several routers: comma-separated saved profile names (password: saved, or LANTOP_PASSWORD_<PROFILE>)')
    .option('--cycle-day <n>', "first day of the billing cycle for the page's \"this cycle\" charts and /api/report?period=cycle (1–31)", '1')
    .addOption(new Option('--log-format <format>', 'one line per event: text on stderr (journald priorities under systemd) or json on stdout').choices(['text', 'json']).default('text'));
  addMqttOptions(serve) // issue 22: Home Assistant over MQTT (app/serve-mqtt.ts, docs/mqtt.md)
    .action(async function (this: Command) {
      await run(actions.serve, this, []);
    });
  serve
    .command('token')
    .description("print serve's read-only access token (made on first use, saved 0600 in the config directory; LANTOP_SERVE_TOKEN overrides it)")
    .option('--rotate', 'make a new token (the old one stops working when serve restarts)')
    .action(async function (this: Command) {
      await run(actions.serveToken, this, []);
    });
  registerServiceCommands(program, run); // issue 22: lantop service install|uninstall|status (docs/service.md)
  registerCounterCommands(program, run); addReportRouterOptions(program, run); // issue 18: lantop counter … (docs/counters.md); issue 20: report --routers/--all
  // Shell completion (issue 22, docs/cli.md): the script is generated from this program; the hidden
  // --list is its callback for profile and device names (no router login).
  sub('completion', 'print a shell completion script: source <(lantop completion bash), or zsh, or fish')
    .addArgument(program.createArgument('[shell]', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addOption(new Option('--list <what>', 'print the saved profiles or known devices, one a line (used by the scripts)').choices(['profiles', 'devices']).hideHelp())
    .action(async function (this: Command) {
      const { completionAction } = await import('./app/completion.js');
      await run(completionAction(program, version), this, this.args);
    });
  // Alerts (issue 16, docs/alerts.md): channels in alerts.json; passwords never in argv.
  const alert = sub('alert', 'alert channels (webhook, email, command) and a test alert; see docs/alerts.md');
  const alertAdd = alert.command('add').description('add an alert channel');
  alertAdd
    .command('webhook <url>')
    .description('HTTP(S) POST of each alert (ntfy, Gotify, Home Assistant, Slack-compatible)')
    .addOption(new Option('--format <format>', 'body: json (the documented body), slack ({"text"}), ntfy (text + Title/Priority/Tags headers) or gotify').choices(['json', 'slack', 'ntfy', 'gotify']).default('json'))
    .option('--header <header>', "extra header, e.g. 'Authorization: Bearer TOKEN' (repeatable)", (value: string, all: string[] = []) => [...all, value])
    .action(async function (this: Command) {
      await run(alertActions.alertAddWebhook, this, this.args);
    });
  alertAdd
    .command('email')
    .description('an email per alert over SMTP (password: LANTOP_SMTP_PASSWORD or --save-password, never argv)')
    .option('--smtp <url>', 'smtp://host[:port] (STARTTLS when offered; default port 587) or smtps://host[:port] (TLS; 465)')
    .option('--from <address>', 'sender address')
    .option('--to <address>', 'recipient (repeatable, or comma-separated)', (value: string, all: string[] = []) => [...all, value])
    .option('--smtp-user <name>', 'SMTP login user (--user is the router login)')
    .option('--save-password', 'save the SMTP password (from LANTOP_SMTP_PASSWORD or a prompt): obfuscated, NOT encrypted')
    .option('--require-tls', 'smtp://: refuse to send unless STARTTLS works')
    .option('--ca-file <path>', 'PEM certificates to trust (a self-signed server)')
    .action(async function (this: Command) {
      await run(alertActions.alertAddEmail, this, []);
    });
  alertAdd
    .command('command <command...>')
    .description('run a program with the alert as JSON on stdin (no shell; use -- before its own options)')
    .action(async function (this: Command) {
      await run(alertActions.alertAddCommand, this, this.args);
    });
  alert
    .command('list')
    .description('list alert channels (tokens and passwords masked)')
    .option('--json', 'machine-readable output')
    .action(async function (this: Command) {
      await run(alertActions.alertList, this, []);
    });
  alert.command('remove <id>').description('remove an alert channel').action(async function (this: Command) {
    await run(alertActions.alertRemove, this, this.args);
  });
  alert.command('test').description('send a test alert through every channel and say which worked (exit 0 only if all did)').action(async function (this: Command) {
    await run(alertActions.alertTest, this, []);
  });
  const config = sub('config', 'show or change saved router profiles');
  config.command('path').description('print where the configuration file lives').action(async function (this: Command) {
    await run(actions.configPath, this, []);
  });
  config
    .command('list')
    .description('list saved profiles (passwords are never printed)')
    .action(async function (this: Command) {
      await run(actions.configList, this, []);
    });
  config
    .command('get <key>')
    .description(`print one setting of the profile (${PROFILE_KEYS.join(', ')})`)
    .action(async function (this: Command) {
      await run(actions.configGet, this, this.args);
    });
  config
    .command('set <key> <value>')
    .description(`save one setting in the profile (${PROFILE_KEYS.join(', ')})`)
    .action(async function (this: Command) {
      await run(actions.configSet, this, this.args);
    });
  config
    .command('unset <key>')
    .description('remove one setting from the profile')
    .action(async function (this: Command) {
      await run(actions.configUnset, this, this.args);
    });
  config
    .command('save-password')
    .description('save the password (from --password-env/--password-file or a prompt) in the profile: obfuscated, NOT encrypted')
    .action(async function (this: Command) {
      await run(actions.configSavePassword, this, []);
    });
  return program;
}

function report(error: unknown, stderr: NodeJS.WriteStream, isDebug: boolean): number {
  if (error instanceof LantopError) {
    stderr.write(`lantop: ${sanitizeText(error.message, 2000)}\n`);
    if (error instanceof RouterError && error.seen) stderr.write(`  the router printed:\n${error.seen.split('\n').map((line) => `    ${line}`).join('\n')}\n`);
    if (error.nextStep) stderr.write(`  → ${error.nextStep}\n`);
    if (isDebug && error.cause) stderr.write(`${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(`lantop: unexpected error: ${sanitizeText(message, 2000)}\n  → This is a bug in lantop; please report it${isDebug ? '' : ' (run again with --debug for details)'}.\n`);
  if (isDebug && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return exitCodeOf(error);
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(async (action, cmd) => {
    const flags = cmd.optsWithGlobals() as GlobalFlags & Record<string, unknown>;
    const ctx: CommandContext = { flags, env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
    try {
      const code = await (usersModeAction(ctx, commandWords(cmd)) ?? action)(ctx, cmd.opts(), cmd.args);
      exitCode = code ?? EXIT.ok;
    } catch (error) {
      exitCode = report(error, process.stderr, flags.debug === true);
    }
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything commander rejects is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return report(error, process.stderr, argv.includes('--debug'));
  }
  return exitCode;
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`lantop: fatal: ${String(error)}\n`);
    process.exitCode = EXIT.bug;
  },
);
