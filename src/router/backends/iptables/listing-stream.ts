// Parsing the poll's `iptables -L` while it arrives (issue 21): 253 hosts make a 58 KB listing that
// comes in ~40 pieces over ~2 ms, and parsing it after the last piece put ~0.4 ms after the end.
// parseIptablesListing reads each line with only the chain line and the column header above it as
// context, so every block of complete lines is parsed on its own with those two lines in front,
// and the block's first chain joined to the last chain so far. finish(output) returns what
// parseIptablesListing(output) returns; when the blocks are not what the output starts with, or a
// block's chain lines cannot be told apart with certainty, it parses the output whole.
import { parseIptablesListing, type IptablesListingReport } from '../../parsers/iptables-listing.js';
import type { Chain } from '../../parsers/types.js';

/** parseIptablesListing's column header line (its HEADER_LINE), on a line without its line end. */
const HEADER = /^\s*(num\s+)?(pkts\s+bytes\s+)?target\s+prot\s+(opt\s+)?(in\s+out\s+)?source\s+destination\s*$/;
const CHAIN_NAME = /^Chain (\S+) \(/;

export class ListingStream {
  private readonly blocks: string[] = [];
  private readonly chains: Chain[] = [];
  private readonly warnings: string[] = [];
  private readonly errors: string[] = [];
  private readonly skipped: string[] = [];
  /** The last chain line seen and the last column header after it, each with its '\n' ('' if none). */
  private chainLine = '';
  private headerLine = '';
  /** A block the context could not be read from: finish parses the output whole. */
  private isUncertain = false;
  private hasParsedWhole = false;

  /** Whether finish had to parse the output whole (tests: the blocks were used otherwise). */
  get didParseWhole(): boolean {
    return this.hasParsedWhole;
  }

  /** The next complete lines of the listing (each ending in '\n'). */
  push(lines: string): void {
    this.blocks.push(lines);
    if (!this.isUncertain) this.parseBlock(lines);
  }

  finish(output: string): IptablesListingReport {
    const handed = this.blocks.join('');
    if (this.isUncertain || !isLinePrefix(handed, output)) {
      this.hasParsedWhole = true;
      return parseIptablesListing(output);
    }
    if (handed.length < output.length) this.parseBlock(output.slice(handed.length));
    return { chains: this.chains, warnings: this.warnings, errors: this.errors, skipped: this.skipped };
  }

  private parseBlock(block: string): void {
    const context = this.chainLine + this.headerLine;
    const report = parseIptablesListing(context + block);
    let first = 0;
    if (this.chainLine !== '') {
      // The context's chain: its rules continue the last chain so far.
      const continued = report.chains[0];
      const last = this.chains[this.chains.length - 1];
      if (continued === undefined || last === undefined || continued.name !== last.name) {
        this.isUncertain = true;
        return;
      }
      for (const rule of continued.rules) last.rules.push(rule);
      first = 1;
    }
    for (let i = first; i < report.chains.length; i++) this.chains.push(report.chains[i]!);
    for (const w of report.warnings) this.warnings.push(w);
    for (const e of report.errors) this.errors.push(e);
    for (const s of report.skipped) this.skipped.push(s);
    this.readContext(block, report.chains.length - first);
  }

  /** The chain line and column header the next block is read under; `newChains` is how many this block began. */
  private readContext(block: string, newChains: number): void {
    let chainLines = 0;
    let start = 0;
    while (start < block.length) {
      let end = block.indexOf('\n', start);
      if (end < 0) end = block.length;
      let first = start;
      while (first < end && (block.charCodeAt(first) === 32 || block.charCodeAt(first) === 9)) first++;
      const code = block.charCodeAt(first);
      if (first === start && block.startsWith('Chain ', start)) {
        chainLines += 1;
        this.chainLine = `${block.slice(start, end)}\n`;
        this.headerLine = '';
      } else if ((code === 110 || code === 112 || code === 116) /* n p t: num, pkts, target */ && this.chainLine !== '') {
        const line = block.slice(start, end);
        if (HEADER.test(line.trimEnd())) this.headerLine = `${line}\n`;
      }
      start = end + 1;
    }
    // Every chain the parser began must be one of these lines, the last one named as it is.
    const last = this.chains[this.chains.length - 1];
    if (chainLines !== newChains || (newChains > 0 && CHAIN_NAME.exec(this.chainLine)?.[1] !== last?.name)) this.isUncertain = true;
  }
}

/** True when `handed` (lines, each ending in '\n') is the start of `output` plus a final '\n'. */
function isLinePrefix(handed: string, output: string): boolean {
  if (handed.length <= output.length) return output.startsWith(handed);
  return handed.length === output.length + 1 && handed.endsWith('\n') && handed.startsWith(output);
}
