// The history store's public surface (docs/history.md).
export {
  HistoryStore,
  defaultHistoryPath,
  encodeState,
  decodeState,
  DEFAULT_RETENTION,
  DEFAULT_BUSY_TIMEOUT_MS,
  type HistoryStoreOptions,
  type RetentionOptions,
  type LeaseHolder,
  type LeaseInfo,
  type LeaseAttempt,
  type StoredState,
  type StoredHost,
  type HostTotal,
  type PeriodReport,
  type SeriesPoint,
  type StoredNotice,
  type PruneResult,
} from './history-store.js';
export { HistoryRecorder, DEFAULT_LEASE_TTL_MS, type RecorderRole, type RoleCheck, type RecorderOptions } from './recorder.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { planRange, BUCKET_MS, type Granularity, type RangePlan, type Availability } from './range-plan.js';
