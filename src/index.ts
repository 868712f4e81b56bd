// lantop as a library: the pure parsers, firmware tables, discovery, the rule planner and the
// accounting arithmetic. Nothing exported here opens a socket or a file.
export * from './router/index.js';
export { planSetup, planFlush, planTeardown, desiredRules, type PlanOptions, type TrafficPlan } from './router/backends/iptables/plan.js';
export { readHostCounters, type HostCounters } from './router/backends/iptables/counters.js';
export { TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN, type RuleLayout } from './router/backends/iptables/layouts.js';
export { LANTOP_COMMENT } from './router/backends/iptables/rule-spec.js';
export { Accountant, emptyAccountingState } from './domain/accounting.js';
export type { AccountingOptions, AccountingResult, AccountingState, PollInput } from './domain/accounting.js';
export type { Snapshot, HostUsage, ConnectionState, Notice } from './domain/snapshot.js';
export { parseAddress, canonicalAddress, compareAddresses, addressFamily, type Address, type AddressFamily } from './domain/address.js';
export { sanitizeText, sanitizeBlock } from './sanitize.js';
export { formatBytes, formatRate, formatShare } from './output/units.js';
