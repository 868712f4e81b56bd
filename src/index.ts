// lantop as a library: the pure parsers, firmware tables, discovery, the rule planner and the
// accounting arithmetic. Nothing exported here opens a socket or a file.
export * from './router/index.js';
export { planSetup, planFlush, planTeardown, readHostCounters, desiredRules, TRAFFIC_CHAIN, DOWN_CHAIN, UP_CHAIN, LANTOP_COMMENT } from './router/rules.js';
export type { RuleLayout, PlanOptions, TrafficPlan, HostCounters } from './router/rules.js';
export { Accountant, emptyAccountingState } from './domain/accounting.js';
export type { AccountingOptions, AccountingResult, AccountingState, PollInput } from './domain/accounting.js';
export type { Snapshot, HostUsage, ConnectionState, Notice } from './domain/snapshot.js';
export { sanitizeText, sanitizeBlock } from './sanitize.js';
export { formatBytes, formatRate, formatShare } from './output/units.js';
