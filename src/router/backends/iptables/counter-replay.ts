// The built-in chains as they will be after the plans that go before the custom counters' in one
// batch (issue 18: host, router and class plans first). Their jumps to lantop's chains go in at
// fixed positions (`-I INPUT 1 -j TRAFFIC_IN`), so the counter plan, which puts its own jump right
// after the lantop jumps a hook starts with, must see them: planned from the listing alone, its
// jump would land in front of them and the next plan would move them back (setup: "NOT verified").
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';

const HOOKS = ['INPUT', 'OUTPUT', 'FORWARD'];
const INSERT = /^(\S+) -I (INPUT|OUTPUT|FORWARD) (\d+) -j (\S+)$/;
const DELETE_AT = /^(\S+) -D (INPUT|OUTPUT|FORWARD) (\d+)$/;
const DELETE_JUMP = /^(\S+) -D (INPUT|OUTPUT|FORWARD) -j (\S+)$/;
const PLAIN_JUMP: Rule = { num: null, pkts: 0, bytes: 0, isExact: true, target: '', prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: null };

/** `listing` with INPUT, OUTPUT and FORWARD replayed through the plain jump inserts and deletes among `commands` of this binary. */
export function replayHookJumps(listing: IptablesListing, commands: readonly string[], iptables: string): IptablesListing {
  const rules = new Map<string, Rule[]>();
  for (const c of commands) {
    const insert = INSERT.exec(c);
    const at = insert === null ? DELETE_AT.exec(c) : null;
    const jump = insert === null && at === null ? DELETE_JUMP.exec(c) : null;
    const m = insert ?? at ?? jump;
    if (m === null || m[1] !== iptables) continue;
    const hook = m[2]!;
    const list = rules.get(hook) ?? [...(listing.chains.find((ch) => ch.name === hook)?.rules ?? [])];
    rules.set(hook, list);
    if (insert !== null) list.splice(Number(insert[3]) - 1, 0, { ...PLAIN_JUMP, target: insert[4]! });
    else if (at !== null) list.splice(Number(at[3]) - 1, 1);
    else {
      const i = list.findIndex((r) => r.target === jump![3] && r.extra.trim() === '');
      if (i >= 0) list.splice(i, 1);
    }
  }
  if (rules.size === 0) return listing;
  const chains: Chain[] = listing.chains.map((ch) => {
    const replayed = HOOKS.includes(ch.name) ? rules.get(ch.name) : undefined;
    return replayed === undefined ? ch : { ...ch, rules: replayed.map((r, i) => (r.num === null ? r : { ...r, num: i + 1 })) };
  });
  return { ...listing, chains };
}
