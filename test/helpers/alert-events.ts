// Alert events for the notify and alert tests (issue 16).
import type { AlertEvent } from '../../src/domain/alert-event.js';

export const ALERT_AT = Date.UTC(2026, 4, 1, 14, 0);

/** A device at 80 % of its daily download quota; `change` overrides any field. */
export function quotaEvent(change: Partial<AlertEvent> = {}): AlertEvent {
  return {
    kind: 'quota-threshold',
    atMs: ALERT_AT,
    router: '198.51.100.1:23',
    subject: { kind: 'device', id: 'aa:bb:cc:dd:ee:01', name: 'bens-laptop' },
    quotaId: 3,
    percent: 80,
    usedBytes: 8_000_000_000,
    limitBytes: 10_000_000_000,
    direction: 'down',
    periodStartMs: Date.UTC(2026, 4, 1),
    resetMs: Date.UTC(2026, 4, 2),
    untilMs: null,
    message: '',
    ...change,
  };
}

/** A device name as hostile as a DHCP lease can make it. */
export const HOSTILE_NAME = 'evil\u001b[2J\r\nSubject: pwned\u0007\u202e\u0000"}';
