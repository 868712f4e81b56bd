// Which users poller an open gateway gets (issue 18): the accounting backend its firmware has
// (iptables in the gateway's shell in this slice), lantop's own login port, and the shell's line limit.
import { RouterError } from '../errors.js';
import type { OpenRouter } from './open-router.js';
import type { Services } from './services.js';
import { UsersPoller } from './users-mode.js';

/** The users poller on an open router: iptables in the gateway's shell is required in this slice. */
export function usersPollerFor(services: Services, router: OpenRouter): UsersPoller {
  const { iptables, ip6tables } = router.firmware.commands;
  if (iptables === null || iptables.where !== 'shell') {
    throw new RouterError('Users mode needs iptables in the gateway\'s shell, and none was found.', 'An nftables-only gateway is not supported in users mode yet; install iptables (iptables-nft works).');
  }
  const isSsh = services.settings.protocol === 'ssh';
  const lineBytes = router.firmware.capabilities.shellLineBytes;
  return new UsersPoller({
    run: (command) => router.session.exec(command, { where: 'shell' }),
    iptables: { command: iptables.command, binary: iptables.binary },
    ip6tables: ip6tables !== null && ip6tables.where === 'shell' ? { command: ip6tables.command, binary: ip6tables.binary } : null,
    // lantop's own login came in on the gateway's sshd port; local mode: the usual 22.
    sshPort: isSsh ? services.settings.port : 22,
    isSsh,
    clock: services.clock,
    router: services.key,
    ...(lineBytes !== null && lineBytes !== undefined ? { maxLineBytes: Math.max(400, lineBytes) } : {}),
  });
}
