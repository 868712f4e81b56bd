// The WAN counters ride on the poll's read (issue 19): where the counter listing runs in the shell,
// one line prints the listing, a marker line, then the WAN interface's counters (wan-commands.ts),
// so reconciliation costs no round trip. The marker's quotes are split so an echo of the command
// line never reads as the marker (as dual-stack-read.ts does for the IPv6 listing).

import type { Session } from '../transport/session.js';
import type { CommandSpec } from './firmware/families.js';
import type { IncrementalRead, ReadFollowUp } from './backends/backend.js';
import { wanCountersCommand } from './wan-commands.js';

/** Between the counter listing and the WAN counters in one shell line (split quotes: an echo of the line never matches). */
export const WAN_MARKER = '__LTDEV__';
export const WAN_MARKER_ECHO = 'echo "__LT""DEV__"';
const WAN_MARKER_LINE = /(?:^|\n)[ \t]*__LTDEV__[ \t]*\r?(?:\n|$)/;

/** The text before the WAN marker line and after it (null: no marker came). */
export function splitWanRead(text: string): { listing: string; wan: string | null } {
  const m = WAN_MARKER_LINE.exec(text);
  if (m === null) return { listing: text, wan: null };
  const start = m[0].startsWith('\n') ? m.index + 1 : m.index;
  return { listing: text.slice(0, start), wan: text.slice(m.index + m[0].length) };
}


/** Forwards arriving lines until a line that is the WAN marker; nothing after it (the WAN part is read whole). */
export function untilMarker(push: (lines: string) => void): (lines: string) => void {
  let isPast = false;
  return (lines) => {
    if (isPast) return;
    const m = WAN_MARKER_LINE.exec(lines);
    if (m === null) {
      push(lines);
      return;
    }
    isPast = true;
    const before = lines.slice(0, m[0].startsWith('\n') ? m.index + 1 : m.index);
    if (before !== '') push(before);
  };
}

/** A listing command with the WAN counters of `wan` on the same shell line, as a poll sends it. */
export function withWanRead(command: string, wan: string): string {
  return `${command};${WAN_MARKER_ECHO};${wanCountersCommand(wan)}`;
}

/**
 * One poll's read: the backend's read command (and its follow-up, for a vendor CLI), with the WAN
 * counters of `wan` on the same shell line where one of them runs in the shell, else on their own
 * (wan null: not read). The listing text is what the backend reads, as it would be without the WAN part.
 */
export async function readWithWan(
  session: Pick<Session, 'exec'>,
  spec: CommandSpec,
  followUp: ReadFollowUp | null,
  incremental: IncrementalRead | null,
  wan: string | null,
): Promise<{ text: string; wanText: string | null }> {
  const wanCommand = wan === null ? null : `${WAN_MARKER_ECHO};${wanCountersCommand(wan)}`;
  // (withWanRead(command, wan) is the first line below when onFirst.)
  const onFirst = wanCommand !== null && followUp === null && spec.where === 'shell';
  const onFollowUp = wanCommand !== null && followUp !== null && followUp.command.where === 'shell';
  const onLines = incremental === null ? null : onFirst ? untilMarker((lines) => incremental.push(lines)) : (lines: string) => incremental.push(lines);
  let text = await session.exec(onFirst ? `${spec.command};${wanCommand}` : spec.command, onLines ? { where: spec.where, onLines } : { where: spec.where });
  let wanText: string | null = null;
  if (onFirst) ({ listing: text, wan: wanText } = splitWanRead(text));
  // A router that cannot run both listings in one line (a vendor CLI): the second, then the two
  // answers joined as one line would have printed them.
  if (followUp !== null) {
    let second = await session.exec(onFollowUp ? `${followUp.command.command};${wanCommand}` : followUp.command.command, { where: followUp.command.where });
    if (onFollowUp) ({ listing: second, wan: wanText } = splitWanRead(second));
    text = `${text}\n${followUp.separator}\n${second}`;
  }
  if (wan !== null && !onFirst && !onFollowUp) wanText = await session.exec(wanCountersCommand(wan), { where: 'shell' });
  return { text, wanText };
}
