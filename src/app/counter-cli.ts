// `lantop counter add|list|remove|reset` as commander commands (issue 18, "Custom counters");
// cli.ts registers them with one call. The actions are app/counter-commands.ts.
import type { Command } from 'commander';
import type { Action } from './context.js';
import { COUNTER_ADD_USAGE } from './counter-spec.js';
import { counterActions } from './counter-commands.js';

type Run = (action: Action, cmd: Command, args: string[]) => Promise<void>;

export function registerCounterCommands(program: Command, run: Run): void {
  const counter = program
    .command('counter')
    .description('custom counters: traffic to, from or through the router by interface, network, protocol and port, counted on the router and shown in usage, reports and metrics')
    .exitOverride();
  counter
    .command('add [name]')
    .description(`add a counter (stored in the history database; setup installs it). ${COUNTER_ADD_USAGE}; a network may be negated: --src '!198.51.100.0/24'`)
    .option('--chain <which>', 'input (to the router itself), output (from it) or forward (through it)')
    .option('--in <iface>', 'the interface the traffic comes in on (input, forward)')
    .option('--out <iface>', 'the interface it goes out on (output, forward)')
    .option('--src <cidr>', 'source address or network (a.b.c.d/len, IPv6/len); !CIDR: everything but it')
    .option('--dst <cidr>', 'destination address or network; !CIDR: everything but it')
    .option('--proto <proto>', 'tcp, udp or icmp (ICMPv6 for IPv6)')
    .option('--sport <port>', 'source port (needs --proto tcp or udp)')
    .option('--dport <port>', 'destination port (needs --proto tcp or udp)')
    .action(async function (this: Command) {
      await run(counterActions.counterAdd, this, this.args);
    });
  counter
    .command('list')
    .description("list the router's counters with their totals since reset (as of the last recorded poll)")
    .option('--json', 'JSON output')
    .action(async function (this: Command) {
      await run(counterActions.counterList, this, []);
    });
  counter
    .command('remove <name>')
    .description('remove a counter (its history stays; setup takes its rule off the router)')
    .action(async function (this: Command) {
      await run(counterActions.counterRemove, this, this.args);
    });
  counter
    .command('reset <name>')
    .description('start a counter\'s totals again from now (on this PC only: nothing is zeroed on the router, the history keeps every minute)')
    .action(async function (this: Command) {
      await run(counterActions.counterReset, this, this.args);
    });
}
