// The dual-stack read (issue 15): iptables and ip6tables listings in one round trip where the
// router allows it. Where both run in the shell, one line prints the iptables listing, a marker
// line, then the ip6tables listing with its errors (2>&1: "not found" or "can't initialize" must
// reach us to be told from silence), e.g. (fixtures/iptables/1.8.9-legacy/dual-stack-read.txt):
//
//   iptables -L -v -x -n --line-numbers;echo "__LT""IP6__";ip6tables -L -v -x -n --line-numbers 2>&1
//
// The marker's quotes are split so an echo of the command line never reads as the marker. A vendor
// CLI runs one command per line and no `;`: there the ip6tables listing is a second command of the
// same read (ReadFollowUp), and RouterClient puts the marker line between the two answers itself.
import type { CommandSpec } from '../../firmware/families.js';
import type { ReadFollowUp } from '../backend.js';
import type { IptablesListingReport } from '../../parsers/iptables-listing.js';
import { ListingStream } from './listing-stream.js';

/** The line between the two listings. */
export const IPV6_MARKER = '__LTIP6__';
const MARKER_ECHO = 'echo "__LT""IP6__"';
/** The marker alone on a line (blanks and a CR around it tolerated). */
const MARKER_LINE = /(?:^|\n)[ \t]*__LTIP6__[ \t]*\r?(?:\n|$)/;

/** The one listing of a family: the whole filter table with counters and line numbers. */
export function listingCommand(tool: CommandSpec): CommandSpec {
  return { command: `${tool.command} -L -v -x -n --line-numbers`, where: tool.where };
}

export interface ReadPlan {
  readCommand: CommandSpec;
  followUp: ReadFollowUp | null;
}

/** How a poll reads both families: one shell line, or (a vendor CLI involved) two commands. */
export function dualReadPlan(iptables: CommandSpec, ip6tables: CommandSpec): ReadPlan {
  const v4 = listingCommand(iptables);
  const v6 = listingCommand(ip6tables);
  if (iptables.where === 'shell' && ip6tables.where === 'shell') {
    return { readCommand: { command: `${v4.command};${MARKER_ECHO};${v6.command} 2>&1`, where: 'shell' }, followUp: null };
  }
  const second = ip6tables.where === 'shell' ? { command: `${v6.command} 2>&1`, where: 'shell' as const } : v6;
  return { readCommand: v4, followUp: { command: second, separator: IPV6_MARKER } };
}

/** The text before the marker line and after it; text6 null when no marker line came. */
export function splitDualRead(text: string): { text4: string; text6: string | null } {
  const m = MARKER_LINE.exec(text);
  if (m === null) return { text4: text, text6: null };
  const start = m[0].startsWith('\n') ? m.index + 1 : m.index;
  return { text4: text.slice(0, start), text6: text.slice(m.index + m[0].length) };
}

/** Both listings parsed while the reply arrives: lines before the marker to one stream, after it to the other. */
export class DualListingStream {
  private readonly stream4 = new ListingStream();
  private readonly stream6 = new ListingStream();
  private isPastMarker = false;

  push(lines: string): void {
    if (this.isPastMarker) {
      this.stream6.push(lines);
      return;
    }
    const { text4, text6 } = splitDualRead(lines);
    if (text4 !== '') this.stream4.push(text4);
    if (text6 === null) return;
    this.isPastMarker = true;
    if (text6 !== '') this.stream6.push(text6);
  }

  /** What parseIptablesListing reads in each part of `text` (listing6 null: no marker line). */
  finish(text: string): { listing4: IptablesListingReport; listing6: IptablesListingReport | null; text4: string; text6: string | null } {
    const { text4, text6 } = splitDualRead(text);
    return { listing4: this.stream4.finish(text4), listing6: text6 === null ? null : this.stream6.finish(text6), text4, text6 };
  }
}
