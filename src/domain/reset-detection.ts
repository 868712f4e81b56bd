// Phases of a poll that look at the router as a whole (issue 7, issue 13): how much time passed,
// whether every counter restarted from 0 (a reboot, or lantop reinstalled its counters), and which
// reset to report with the window of traffic it could not count. Pure: state in, decisions out.

import type { AccountingEvent, PollInput } from './accounting-model.js';

export interface Elapsed {
  /** null on the first poll; 0 when the clock went backwards. */
  elapsedMs: number | null;
  clockJump: Extract<AccountingEvent, { kind: 'clock-jump' }> | null;
}

/** The wall clock may step back (NTP, a manual change): then no time has elapsed as far as rates go. */
export function elapsedSince(prevAtMs: number | null, atMs: number): Elapsed {
  if (prevAtMs === null) return { elapsedMs: null, clockJump: null };
  const elapsedMs = atMs - prevAtMs;
  if (elapsedMs < 0) return { elapsedMs: 0, clockJump: { kind: 'clock-jump', fromMs: prevAtMs, toMs: atMs } };
  return { elapsedMs, clockJump: null };
}

export interface WholeReset {
  /** Why every counter restarted (a reboot wins over a reinstall), or null: no reset. */
  reason: 'reboot' | 'reinstalled' | null;
  /** Every counter of this listing started at 0 (a reset, or the very first installation). */
  areAllCountersNew: boolean;
  /** The boot marker to keep (an unknown one keeps the last known). */
  bootMarker: string | null;
}

/**
 * Counters installed on a router never counted before (lantop's first setup, the demo's first
 * poll) start at 0 as well, but nothing was lost: that is no reset.
 */
export function detectWholeReset(
  known: { bootMarker: string | null; lastCountedAtMs: number | null },
  input: Pick<PollInput, 'bootMarker' | 'isReinstalled'>,
): WholeReset {
  const isReinstalled = input.isReinstalled === true;
  let bootMarker = known.bootMarker;
  let isReboot = false;
  if (typeof input.bootMarker === 'string') {
    isReboot = bootMarker !== null && bootMarker !== input.bootMarker;
    bootMarker = input.bootMarker;
  }
  const reason = isReboot ? 'reboot' : isReinstalled && known.lastCountedAtMs !== null ? 'reinstalled' : null;
  return { reason, areAllCountersNew: reason !== null || isReinstalled, bootMarker };
}

export interface ResetWindowInput {
  atMs: number;
  epoch: number;
  lastCountedAtMs: number | null;
  wholeReset: WholeReset['reason'];
  /** Addresses whose counters went down this poll (only looked at without a whole reset). */
  decreasedAddresses: string[];
  /** Every address in this poll's listing (a whole reset names them all); read only then. */
  listedAddresses: Iterable<string>;
  bootAtMs?: number | null;
  rulesInstalledAtMs?: number | null;
  isInstallationComplete?: boolean;
}

export interface ResetWindow {
  epoch: number;
  lastCountedAtMs: number | null;
  event: Extract<AccountingEvent, { kind: 'reset' }> | null;
}

/**
 * A reset starts a new epoch, and reports what it could not count: from the last read at which
 * the counters were complete (not the previous poll: that one may have found them missing) to the
 * boot, or to when lantop put them back (from then on they counted from 0), else to this read.
 */
export function closeResetWindow(input: ResetWindowInput): ResetWindow {
  const { atMs } = input;
  const missingFromMs = input.lastCountedAtMs;
  let epoch = input.epoch;
  let event: ResetWindow['event'] = null;
  let reportedUntilMs: number | null = null;
  if (input.wholeReset !== null) {
    epoch += 1;
    const reason = input.wholeReset;
    const end = reason === 'reboot' ? (input.bootAtMs ?? null) : (input.rulesInstalledAtMs ?? null);
    const to = end !== null && end <= atMs && (missingFromMs === null || end >= missingFromMs) ? end : atMs;
    event = { kind: 'reset', reason, epoch, ips: [...input.listedAddresses], missingFromMs, missingToMs: to };
    reportedUntilMs = to;
  } else if (input.decreasedAddresses.length > 0) {
    epoch += 1;
    event = { kind: 'reset', reason: 'counter-decrease', epoch, ips: input.decreasedAddresses, missingFromMs, missingToMs: atMs };
    reportedUntilMs = atMs;
  }
  // Everything before this read is now counted, or reported missing: a later reset's window
  // starts here (or where the one just reported ended, when this read still counted nothing).
  let lastCountedAtMs = input.lastCountedAtMs;
  if (input.isInstallationComplete !== false) lastCountedAtMs = atMs;
  else if (reportedUntilMs !== null) lastCountedAtMs = reportedUntilMs;
  return { epoch, lastCountedAtMs, event };
}
