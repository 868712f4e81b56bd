// Which users poller an open gateway gets (issue 18): the counting backend its firmware has, lantop's
// own login port, and the shell's line limit. The backend is chosen as devices mode chooses
// (router/backends/choose-backend.ts): iptables in the shell unless the gateway is nftables-only,
// else nft in the shell; neither → a RouterError saying what to install.
import { RouterError } from '../errors.js';
import type { FirmwareProfile } from '../router/firmware/families.js';
import type { UsersBackend } from '../router/backends/users-backend.js';
import { IptablesUsersBackend } from '../router/backends/iptables/users-backend.js';
import { NftUsersBackend } from '../router/backends/nftables/users-backend.js';
import type { OpenRouter } from './open-router.js';
import type { Services } from './services.js';
import { UsersPoller } from './users-mode.js';

/** The counting backend for users mode on this firmware profile. */
export function usersBackendFor(firmware: FirmwareProfile, sshPort: number): UsersBackend {
  const { iptables, ip6tables, nft } = firmware.commands;
  const hasIptables = iptables !== null && iptables.where === 'shell';
  const hasNft = nft !== null && nft.where === 'shell';
  if (hasIptables && !(firmware.capabilities.nftOnly && hasNft)) {
    return new IptablesUsersBackend({
      iptables: { command: iptables.command, binary: iptables.binary },
      ip6tables: ip6tables !== null && ip6tables.where === 'shell' ? { command: ip6tables.command, binary: ip6tables.binary } : null,
      sshPort,
    });
  }
  if (hasNft) return new NftUsersBackend({ nft: nft.command, sshPort });
  throw new RouterError('Users mode needs iptables or nft in the gateway\'s shell, and neither was found.', 'Install iptables or nftables on the gateway (and log in as root, or with sudo in local mode); `lantop doctor` shows every probe.');
}

/** The users poller on an open router. */
export function usersPollerFor(services: Services, router: OpenRouter): UsersPoller {
  const isSsh = services.settings.protocol === 'ssh';
  const lineBytes = router.firmware.capabilities.shellLineBytes;
  // lantop's own login came in on the gateway's sshd (or Dropbear) port; local mode: the usual 22.
  const sshPort = isSsh ? services.settings.port : 22;
  return new UsersPoller({
    run: (command) => router.session.exec(command, { where: 'shell' }),
    backend: usersBackendFor(router.firmware, sshPort),
    sshPort,
    isSsh,
    clock: services.clock,
    router: services.key,
    ...(lineBytes !== null && lineBytes !== undefined ? { maxLineBytes: Math.max(400, lineBytes) } : {}),
  });
}
