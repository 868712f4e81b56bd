// An iptables (legacy, IPv4) that behaves like the real program on a Broadcom router, for the
// emulated router: same command-line parsing (GNU getopt rules, `!` inversion, optional arguments
// that take the next word unless it starts with '-' or '!'), same checks in the same order, same
// error texts and exit statuses, same listing layout byte for byte, and kernel-like rule traversal
// for simulated packets so counters grow only where rules match. Pure: no I/O, state passed in.
//
// Modelled on iptables 1.4.20/1.4.21 (iptables/iptables.c, libiptc, libxtables), the generation
// Broadcom SDKs ship, and checked byte for byte against captures of this machine's iptables-legacy
// 1.8.9 (testdata/iptables-1.8.9-legacy.json, dialect '1.8.9-legacy'). The dialects differ only
// where upstream changed texts between those versions (DIALECTS in iptables-state.ts).
//
// Emulated: tables filter/nat/mangle; -A -C -D (spec and number) -I [n] -R -L [chain [n]] -S -F -Z
// [n] -N -X -E -P; -s -d -i -o -p -f with `!`; -j/-g to ACCEPT DROP RETURN QUEUE, user chains, LOG,
// REJECT; -m comment --comment; -c; -v -x -n --line-numbers -w. Not emulated: other matches
// (state, tcp ports…), other targets, host names in addresses, loop detection on commit.
//
// This file is the entry; the parts, by reason to change:
//   iptables-getopt.ts     getopt_long as iptables calls it
//   iptables-argv.ts       the command line: commands, options, the rule they describe, their checks
//   iptables-run.ts        running a command against a table (runIptables)
//   iptables-state.ts      tables, chains, rules and counters; dialects; exit paths
//   iptables-names.ts      targets, protocols, log levels; IPv4 address text
//   iptables-listing.ts    `-L` (through router/parsers/format-iptables-listing.ts) and `-S`
//   iptables-traversal.ts  simulated packets through the chains (traversePackets)

export { runIptables } from './iptables-run.js';
export { traversePackets, type PacketBatch, type PacketFlow, type Verdict } from './iptables-traversal.js';
export { formatIpv4, parseIpv4, type AddressMatch } from './iptables-names.js';
export {
  createIptablesState,
  type IptablesChain, type IptablesDialect, type IptablesResult, type IptablesRule, type IptablesState, type IptablesTable, type RuleSpec,
} from './iptables-state.js';
