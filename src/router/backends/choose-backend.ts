// Which accounting backend counts on this router, from what detection found (issue 14). Today only
// iptables; nftables comes by its own issue and slots in here.
import { RouterError } from '../../errors.js';
import type { FirmwareProfile } from '../firmware/families.js';
import type { AccountingBackend, BackendKind } from './backend.js';
import { IptablesBackend, type IptablesBackendOptions } from './iptables/iptables-backend.js';

export interface ChooseBackendOptions extends IptablesBackendOptions {
  /** `--backend`: the one asked for; otherwise chosen from the capabilities. */
  backend?: BackendKind;
}

/** The backend for this profile, or a RouterError saying what was tried. */
export function chooseBackend(firmware: FirmwareProfile, options: ChooseBackendOptions): AccountingBackend {
  if (firmware.commands.iptables !== null && !firmware.capabilities.nftOnly) return new IptablesBackend(firmware, options);
  if (firmware.capabilities.nftOnly) {
    throw new RouterError(
      `This router (${firmware.family}) has only nftables; lantop counts with iptables today.`,
      'nftables accounting is planned; until then install iptables-nft on the router, or use --firmware if detection was wrong.',
    );
  }
  const tried = firmware.decisions
    .filter((d) => d.what === 'iptables' || d.what === 'shell')
    .flatMap((d) => d.tried)
    .map((t) => `\`${t.command}\` in the ${t.where === 'cli' ? 'CLI' : 'shell'} → ${t.answer || '(silence)'}`);
  throw new RouterError(
    `No iptables answered on this router (${firmware.family}), so lantop cannot count here.`,
    'Check that this login is the router\'s admin/root user; `lantop doctor` shows every probe and writes a transcript for a bug report.',
    tried.length > 0 ? { seen: tried.join('\n') } : undefined,
  );
}
