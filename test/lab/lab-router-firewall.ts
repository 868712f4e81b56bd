// The router's firewall at boot and after a reboot: the CMS boot rules through iptables-restore (and
// ip6tables-restore when dual stack), or firewall4's ruleset through `fw4 start` on the OpenWrt
// router; and the router's rule sets as text for before/after comparisons.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bootRuleset, normalizeIptablesSave, type IptablesBackend } from './lab-model.js';
import type { RouterProfile } from './lab-variants.js';
import { LabError, runOk, type ExecResult } from './run-command.js';

export type RouterExec = (argv: readonly string[], options?: { input?: string }) => Promise<ExecResult>;

export interface FirewallContext {
  exec: RouterExec;
  routerNs: string;
  /** The lab's state dir: the router's /tmp is `<dir>/tmp`. */
  dir: string;
  backend: IptablesBackend;
  profile: RouterProfile;
  /** A process in the router's network namespace (its /proc shows the namespace's tables). */
  keeperPid: number;
  /** Vendor router with software flow offload: nft text loaded after the iptables boot rules. */
  offloadRuleset: string | null;
}

async function execOk(context: FirewallContext, argv: readonly string[], input?: string): Promise<string> {
  const result = await context.exec(argv, input !== undefined ? { input } : {});
  if (result.code !== 0) throw new LabError(`lab: router command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr}`);
  return result.stdout;
}

/** What the router loads when it boots. */
export async function bootFirewall(context: FirewallContext): Promise<void> {
  if (context.profile.firmware === 'openwrt') {
    // /etc/init.d/firewall boot: `fw4 -q start`. A reboot empties /tmp, where fw4 keeps its state.
    rmSync(join(context.dir, 'tmp', 'run', 'fw4.state'), { force: true });
    await execOk(context, ['fw4', '-q', 'start']);
    return;
  }
  await execOk(context, ['iptables-restore'], bootRuleset(legacyTables(context, 'ip_tables_names')));
  if (context.profile.ipv6) await execOk(context, ['ip6tables-restore'], bootRuleset(legacyTables(context, 'ip6_tables_names'), 6));
  if (context.offloadRuleset) await execOk(context, ['nft', '-f', '-'], context.offloadRuleset);
}

/** Legacy tables cannot be deleted, only reset: every one that exists in the namespace. */
function legacyTables(context: FirewallContext, file: 'ip_tables_names' | 'ip6_tables_names'): string[] {
  if (context.backend !== 'legacy') return [];
  try {
    return readFileSync(`/proc/${context.keeperPid}/net/${file}`, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** A reboot: every nftables table gone (iptables-nft's too), then the boot firewall, counters zero. */
export async function rebootFirewall(context: FirewallContext): Promise<void> {
  const tables = JSON.parse(await runOk(['ip', 'netns', 'exec', context.routerNs, 'nft', '-j', 'list', 'tables'])) as {
    nftables?: Array<{ table?: { family: string; name: string } }>;
  };
  for (const item of tables.nftables ?? []) {
    if (item.table) await runOk(['ip', 'netns', 'exec', context.routerNs, 'nft', 'delete', 'table', item.table.family, item.table.name]);
  }
  await bootFirewall(context);
}

/** `nft list ruleset` of the router; by default with every counter zeroed, so two dumps compare. */
export async function nftRuleset(context: FirewallContext, options: { raw?: boolean } = {}): Promise<string> {
  const text = await runOk(['ip', 'netns', 'exec', context.routerNs, 'nft', 'list', 'ruleset']);
  return options.raw ? text : text.replace(/counter packets \d+ bytes \d+/g, 'counter packets 0 bytes 0');
}

/** `iptables-save` / `ip6tables-save` of a router that has them. */
export async function iptablesSave(context: FirewallContext, family: 4 | 6, options: { counters?: boolean; raw?: boolean } = {}): Promise<string> {
  if (context.profile.firmware === 'openwrt') throw new LabError('lab: the OpenWrt router has no iptables (use nftRuleset())');
  const text = await execOk(context, [family === 4 ? 'iptables-save' : 'ip6tables-save', ...(options.counters ? ['-c'] : [])]);
  return options.raw || options.counters ? text : normalizeIptablesSave(text);
}

export const FW4_COMMANDS = ['start', 'stop', 'reload', 'restart', 'flush', 'check', 'print'] as const;
export type Fw4Command = (typeof FW4_COMMANDS)[number];

/** Runs the router's own `fw4 <command>` (OpenWrt only); its stdout, or an error with its stderr. */
export async function fw4(context: FirewallContext, command: Fw4Command): Promise<string> {
  if (context.profile.firmware !== 'openwrt') throw new LabError('lab: fw4 exists on the OpenWrt router only');
  if (!FW4_COMMANDS.includes(command)) throw new LabError(`lab: unknown fw4 command ${String(command)}`);
  return execOk(context, ['fw4', command]);
}
