// Which firewall blocks on this router: the same tool that counts (issue 16) — iptables where the
// accounting counts with iptables, nftables where it counts with nft.
import { RouterError } from '../../errors.js';
import type { FirmwareProfile } from '../firmware/families.js';
import type { BackendKind } from './backend.js';
import type { BlockBackend } from './block.js';
import { IptablesBlockBackend } from './iptables/block-backend.js';
import { NftablesBlockBackend } from './nftables/block-backend.js';

export function chooseBlockBackend(firmware: FirmwareProfile, kind: BackendKind): BlockBackend {
  if (kind === 'nftables' && firmware.commands.nft !== null) return new NftablesBlockBackend(firmware);
  if (kind === 'iptables' && firmware.commands.iptables !== null) return new IptablesBlockBackend(firmware);
  throw new RouterError(`This router (${firmware.family}) has no ${kind} lantop can block with.`, '`lantop doctor` shows every probe.');
}
