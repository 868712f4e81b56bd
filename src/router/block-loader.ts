// Blocking's loader (issue 16): read lantop's block objects through the block backend, plan, apply,
// fall back where the router lacks an optional match, end the device's connections, read back.
// RouterClient's block methods delegate here; the safety check (domain/never-block.ts) is the
// caller's and runs before block().
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { Session } from '../transport/session.js';
import type { FirmwareProfile } from './firmware/families.js';
import type { ApplyOutcome, BackendKind } from './backends/backend.js';
import type { BlockBackend, BlockEntry, BlockReading, BlockTarget } from './backends/block.js';
import { chooseBlockBackend } from './backends/choose-block-backend.js';
import { parseInterfaceAddresses, type InterfaceAddresses } from './parsers/interface-addresses.js';

export interface BlockOutcome {
  /** The commands the router took, in order. */
  applied: string[];
  /** The blocks on the router afterwards. */
  entries: BlockEntry[];
  notes: string[];
}

/** removeExpired's outcome: also the entries it removed (their expiry had passed). */
export interface ExpiryOutcome extends BlockOutcome {
  removed: BlockEntry[];
}

/** The most fallbacks one block may take (time, comment, mac). */
const MAX_FALLBACKS = 3;

export class BlockLoader {
  private backendValue: BlockBackend | null = null;
  private backendKey = '';

  constructor(
    private readonly session: Session,
    private readonly firmware: () => FirmwareProfile,
    private readonly kind: () => BackendKind,
  ) {}

  get backend(): BlockBackend {
    const firmware = this.firmware();
    const key = `${firmware.family}/${this.kind()}/${firmware.source}`;
    if (this.backendValue === null || key !== this.backendKey) {
      this.backendValue = chooseBlockBackend(firmware, this.kind());
      this.backendKey = key;
    }
    return this.backendValue;
  }

  async read(nowMs: number): Promise<BlockReading> {
    const answers: string[] = [];
    for (const spec of this.backend.readCommands) answers.push(await this.session.exec(spec.command, { where: spec.where }));
    return this.backend.read(answers, nowMs);
  }

  private apply(commands: readonly string[]): Promise<ApplyOutcome> {
    return this.backend.apply((spec) => this.session.exec(spec.command, { where: spec.where }), commands);
  }

  private refused(what: string, failed: NonNullable<ApplyOutcome['failed']>, applied: readonly string[]): RouterError {
    return new RouterError(
      `The router refused to ${what}: ${failed.command}`,
      applied.length > 0 ? `${applied.length} command(s) before it went through; \`lantop block --list\` shows what is in place, \`lantop unblock --all\` lifts every block.` : 'Nothing was changed.',
      { seen: failed.output },
    );
  }

  async block(target: BlockTarget, nowMs: number): Promise<BlockOutcome> {
    const notes: string[] = [];
    const applied: string[] = [];
    let reading = await this.read(nowMs);
    for (let attempt = 0; ; attempt++) {
      const plan = this.backend.planBlock(target, nowMs, reading);
      const outcome = await this.apply(plan.commands);
      applied.push(...outcome.applied);
      if (outcome.failed === null) {
        notes.push(...plan.notes);
        break;
      }
      const fallback = attempt < MAX_FALLBACKS ? this.backend.fallBackAfter(outcome.failed) : null;
      if (fallback === null) throw this.refused(`block ${target.identity}`, outcome.failed, applied);
      notes.push(fallback);
      reading = await this.read(nowMs);
    }
    // Running connections: conntrack where the router has it; answers are not judged.
    for (const spec of this.backend.planEndConnections(target)) {
      const said = await this.session.exec(spec.command, { where: spec.where }).catch(() => '');
      if (/deleted/.test(said)) notes.push(`conntrack: ${sanitizeText(said.trim().split('\n')[0] ?? '', 100)}`);
    }
    const after = await this.read(nowMs);
    return { applied, entries: after.entries, notes: [...notes, ...after.notes] };
  }

  async unblock(which: string | 'all', nowMs: number): Promise<BlockOutcome> {
    return this.change(`unblock ${which === 'all' ? 'every device' : which}`, nowMs, (reading) => this.backend.planUnblock(which, reading));
  }

  /** One read when nothing has expired; with the removed entries, so a caller need not list first. */
  async removeExpired(nowMs: number): Promise<ExpiryOutcome> {
    let removed: BlockEntry[] = [];
    const outcome = await this.change('remove expired blocks', nowMs, (reading) => {
      const commands = this.backend.planRemoveExpired(reading, nowMs);
      if (commands.length > 0) removed = reading.entries.filter((e) => e.isExpired);
      return commands;
    });
    return { ...outcome, removed };
  }

  async planTeardown(nowMs: number): Promise<string[]> {
    return this.backend.planTeardown(await this.read(nowMs));
  }

  async applyTeardown(commands: readonly string[]): Promise<ApplyOutcome> {
    return this.apply(commands);
  }

  private async change(what: string, nowMs: number, plan: (reading: BlockReading) => string[]): Promise<BlockOutcome> {
    const reading = await this.read(nowMs);
    const commands = plan(reading);
    if (commands.length === 0) return { applied: [], entries: reading.entries, notes: [] };
    const outcome = await this.apply(commands);
    if (outcome.failed !== null) throw this.refused(what, outcome.failed, outcome.applied);
    const after = await this.read(nowMs);
    return { applied: outcome.applied, entries: after.entries, notes: after.notes };
  }

  /**
   * The router's own addresses and MACs (read-only: `ip -o addr`, `ip -o link`, else `ifconfig`),
   * plus the address lantop connects to. Never throws: what it cannot read is a note.
   */
  async ownAddresses(): Promise<InterfaceAddresses & { notes: string[] }> {
    const remote = this.session.remoteAddress ?? null;
    const notes: string[] = [];
    let found: InterfaceAddresses = { addresses: [], macs: [] };
    for (const command of ['ip -o addr 2>&1;ip -o link 2>&1', 'ifconfig 2>&1']) {
      const text = await this.session.exec(command, { where: 'shell' }).catch(() => '');
      found = parseInterfaceAddresses(text);
      if (found.addresses.length > 0) break;
    }
    if (found.addresses.length === 0) notes.push("could not read the router's interface addresses (no `ip`, no `ifconfig`): only the address lantop connects to is protected as the router's");
    const addresses = remote === null || found.addresses.includes(remote) ? found.addresses : [remote, ...found.addresses];
    return { addresses, macs: found.macs, notes };
  }
}
