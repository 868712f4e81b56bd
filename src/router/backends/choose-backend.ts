// Which accounting backend counts on this router, from what detection found (issues 14, 15):
// `--backend NAME` where the router has that tool; otherwise iptables where it exists (and the
// firewall is not nftables-only), else nftables where nft answered.
import { RouterError, UsageError } from '../../errors.js';
import type { FirmwareProfile } from '../firmware/families.js';
import type { AccountingBackend, BackendKind } from './backend.js';
import { IptablesBackend, type IptablesBackendOptions } from './iptables/iptables-backend.js';
import type { NftLayout } from './nftables/layouts.js';
import { NftablesBackend } from './nftables/nftables-backend.js';

export interface ChooseBackendOptions extends IptablesBackendOptions {
  /** `--backend`: the one asked for; otherwise chosen from the capabilities. */
  backend?: BackendKind;
  /** The nftables layout asked for (`layout` is the iptables one); otherwise the router's, else the default. */
  nftLayout?: NftLayout;
}

function nftables(firmware: FirmwareProfile, options: ChooseBackendOptions): NftablesBackend {
  return new NftablesBackend(firmware, { wan: options.wan, ...(options.nftLayout ? { layout: options.nftLayout } : {}) });
}

/** The backend for this profile, or an error saying what was tried. */
export function chooseBackend(firmware: FirmwareProfile, options: ChooseBackendOptions): AccountingBackend {
  if (options.backend === 'nftables') {
    if (firmware.commands.nft === null) throw new UsageError(`--backend nftables: no nft answered on this router (${firmware.family}).`, 'Leave --backend out to count with what the router has, or run `lantop doctor` to see every probe.');
    return nftables(firmware, options);
  }
  if (options.backend === 'iptables') {
    if (firmware.commands.iptables === null) throw new UsageError(`--backend iptables: no iptables answered on this router (${firmware.family}).`, 'Leave --backend out to count with what the router has, or run `lantop doctor` to see every probe.');
    return new IptablesBackend(firmware, options);
  }
  if (firmware.commands.iptables !== null && !firmware.capabilities.nftOnly) return new IptablesBackend(firmware, options);
  if (firmware.commands.nft !== null) return nftables(firmware, options);
  if (firmware.capabilities.nftOnly) {
    throw new RouterError(
      `This router (${firmware.family}) has only nftables, but no nft answered in its shell.`,
      'Check that this login reaches the router\'s shell as root; `lantop doctor` shows every probe.',
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
