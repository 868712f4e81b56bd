// The emulated router: an honest test double and demo target (see README.md). Not a real router.
export { startEmulatedRouter, type EmulatedRouter, type EmulatedRouterOptions, type EmulatorStats } from './server.js';
export {
  createRouterModel, rebootModel, uptimeSeconds, HOSTILE_HOSTNAMES, LAN_PREFIX, WAN_PREFIX,
  type Flavour, type OffloadMode, type HostKind, type HostSpec, type SimulatedHost, type RouterModel, type ModelOptions, type ArpState,
} from './model.js';
export { advanceModel } from './model-simulation.js';
export { formatProcNetArp, formatLanHosts, formatDhcpLeases, formatIpNeigh, formatProcUptime } from './model-formats.js';
export {
  createIptablesState, runIptables, traversePackets, parseIpv4, formatIpv4,
  type IptablesDialect, type IptablesState, type IptablesTable, type IptablesChain, type IptablesRule, type RuleSpec,
  type IptablesResult, type PacketBatch, type Verdict, type AddressMatch,
} from './iptables.js';
export { runBroadcomCli, runBusyboxShell, type CommandOutcome, type ShellSession, type ShellMode } from './commands.js';
export { escapeIac } from './telnet-protocol.js';
export { demoPersona, demoOffload, DEMO_FIRMWARES, type DemoPersona } from './demo-personas.js';
export { conntrackBytesByHost, OFFLOAD_AFTER_PACKETS } from './model-conntrack.js';
export { formatProcNetConntrack, kernelAddress } from './model-conntrack-format.js';
export { type Connection, type ConntrackState, type InterfaceCounters } from './model-conntrack-state.js';
export { formatProcNetDev, netInterfaces } from './model-netdev.js';
export { runFcctl } from './model-offload.js';
export { runGrep } from './busybox-grep.js';
export { runNft, type NftResult } from './nft-run.js';
export { createNftState, type NftState, type NftOptions, type NftVersion } from './nft-state.js';
export { traverseNft, type NftPacket, type NftVerdict } from './nft-traversal.js';
export { createOpenWrtSession, runOpenWrtShell, openWrtEnvironment, type OpenWrtSession } from './openwrt-fw4.js';
export { formatIpNeighbours, LAN6_PREFIX, type HostIpv6Address } from './model-ipv6.js';
export { splitShellWords, splitCommandList } from './shell-words.js';
