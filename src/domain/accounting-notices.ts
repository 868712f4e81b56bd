// Accounting events in words (issue 7, issue 13). Only addresses and times, never hostnames
// (hostile text), and backend-neutral words: the domain speaks of counting rules only (STYLE.md
// principle 12). The history store saves these texts beside the samples.

import type { AccountingEvent } from './accounting-model.js';
import type { Notice } from './snapshot.js';
import { sanitizeText } from '../sanitize.js';

function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** The notices an event gives; most give one, host bookkeeping events none. */
export function noticeFor(e: AccountingEvent, atMs: number): Notice[] {
  const s = (t: string) => sanitizeText(t, 64);
  switch (e.kind) {
    case 'reset': {
      const what =
        e.reason === 'reboot'
          ? 'The router rebooted'
          : e.reason === 'reinstalled'
            ? "lantop's counting rules were missing (the router rebuilt its firewall?) and were put back"
            : `Counters went down for ${e.ips.length === 1 ? s(e.ips[0] ?? '') : `${e.ips.length} hosts`}`;
      // A window that ends before this poll ends exactly (at the boot, or when lantop put the rules
      // back); one that ends at this poll only bounds a reset at an unknown moment inside it.
      const missing =
        e.missingFromMs === null
          ? ''
          : e.missingToMs <= e.missingFromMs
            ? '; no traffic is missing'
            : e.missingToMs < atMs
              ? `; traffic between ${fmtTime(e.missingFromMs)} and ${fmtTime(e.missingToMs)} could not be counted`
              : `; traffic between ${fmtTime(e.missingFromMs)} and the reset (by ${fmtTime(e.missingToMs)}) could not be counted`;
      return [{ atMs, level: 'warn', text: `${what}: counting continues from the new counters (epoch ${e.epoch})${missing}.` }];
    }
    case 'absurd-delta':
      return [
        {
          atMs,
          level: 'warn',
          text: `Discarded an impossible ${e.direction} jump of ${e.deltaBytes} bytes for ${s(e.ip)} (link limit ${Math.round(e.limitBytes)} bytes in ${e.elapsedMs} ms).`,
        },
      ];
    case 'baseline':
      return [{ atMs, level: 'info', text: `Started counting ${e.ips.length} host(s) from their current counters; earlier bytes are not included.` }];
    case 'clock-jump':
      return [{ atMs, level: 'warn', text: `The clock went back from ${fmtTime(e.fromMs)} to ${fmtTime(e.toMs)}; rates restart.` }];
    case 'invalid-counter':
      return [{ atMs, level: 'warn', text: `Ignored an unreadable counter for ${s(e.ip)}.` }];
    case 'ip-changed':
      return [{ atMs, level: 'info', text: `${s(e.identity)} moved from ${s(e.fromIp)} to ${s(e.toIp)}; its history follows the MAC.` }];
    case 'ip-reassigned':
      return [{ atMs, level: 'info', text: `${s(e.ip)} now belongs to ${s(e.toIdentity)} (was ${s(e.fromIdentity)}).` }];
    case 'identity-merged':
      return [{ atMs, level: 'info', text: `${s(e.fromIdentity)} is ${s(e.toIdentity)}; history merged.` }];
    case 'host-appeared':
    case 'host-disappeared':
    case 'host-renamed':
    // Every new privacy address goes this way within a discovery interval: no news.
    case 'address-attributed':
      return [];
  }
}
