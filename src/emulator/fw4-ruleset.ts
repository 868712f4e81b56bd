// The firewall4 ruleset of the emulated OpenWrt 23.05 router: `table inet fw4` as `fw4 reload`
// renders it, cut down to what the emulated nft models. The chain names, their order, hooks,
// priorities, policies and rule comments are those of firewall4's default configuration
// (openwrt/firewall4: tests/01_configuration/01_ruleset, the expected `fw4 print` output); what is
// left out is what the emulator does not model (flowtable, ct helpers, syn_flood, ICMPv6/DHCP/IGMP
// input rules, reject chains, `ct state vmap`, written here as `ct state established,related
// accept`). Like the real one it drops by policy in input and forward: LAN → WAN is accepted
// by a rule, WAN → LAN only for established flows, so lantop's own table at `filter + 10` sees
// what fw4 let through. `fw4 reload`, `restart` and `flush` behave as firewall4 does
// (root/sbin/fw4, root/etc/init.d/firewall; see src/emulator/README.md).

import { runNft } from './nft-run.js';
import { findTable, type NftState } from './nft-state.js';

export function fw4Ruleset(lan: string, wan: string): string {
  return `table inet fw4
flush table inet fw4

table inet fw4 {
	chain input {
		type filter hook input priority filter; policy drop;
		iifname "lo" accept comment "!fw4: Accept traffic from loopback"
		ct state established,related accept comment "!fw4: Handle inbound flows"
		iifname "${lan}" jump input_lan comment "!fw4: Handle lan IPv4/IPv6 input traffic"
		iifname "${wan}" jump input_wan comment "!fw4: Handle wan IPv4/IPv6 input traffic"
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept comment "!fw4: Handle forwarded flows"
		iifname "${lan}" jump forward_lan comment "!fw4: Handle lan IPv4/IPv6 forward traffic"
		iifname "${wan}" jump forward_wan comment "!fw4: Handle wan IPv4/IPv6 forward traffic"
	}

	chain output {
		type filter hook output priority filter; policy accept;
		oifname "lo" accept comment "!fw4: Accept traffic towards loopback"
		ct state established,related accept comment "!fw4: Handle outbound flows"
		oifname "${lan}" jump output_lan comment "!fw4: Handle lan IPv4/IPv6 output traffic"
		oifname "${wan}" jump output_wan comment "!fw4: Handle wan IPv4/IPv6 output traffic"
	}

	chain input_lan {
		jump accept_from_lan
	}

	chain output_lan {
		jump accept_to_lan
	}

	chain forward_lan {
		jump accept_to_wan comment "!fw4: Accept lan to wan forwarding"
		jump accept_to_lan
	}

	chain accept_from_lan {
		iifname "${lan}" counter accept comment "!fw4: accept lan IPv4/IPv6 traffic"
	}

	chain accept_to_lan {
		oifname "${lan}" counter accept comment "!fw4: accept lan IPv4/IPv6 traffic"
	}

	chain input_wan {
		jump drop_from_wan
	}

	chain output_wan {
		jump accept_to_wan
	}

	chain forward_wan {
		jump drop_to_lan
	}

	chain accept_to_wan {
		oifname "${wan}" counter accept comment "!fw4: accept wan IPv4/IPv6 traffic"
	}

	chain drop_from_wan {
		iifname "${wan}" counter drop comment "!fw4: drop wan IPv4/IPv6 traffic"
	}

	chain drop_to_lan {
		oifname "${lan}" counter drop comment "!fw4: drop lan IPv4/IPv6 traffic"
	}
}
`;
}

/** `fw4 reload` / `fw4 restart` / `fw4 flush` on the emulated ruleset; the text fw4 would print. */
export function runFw4(state: NftState, action: string, lan: string, wan: string, nowMs: number): { stdout: string; stderr: string; status: number } {
  switch (action) {
    case 'start':
    case 'reload':
    case 'restart': {
      // restart = stop (delete the table) + start; reload rewrites the table in place.
      if (action === 'restart' && findTable(state, 'inet', 'fw4')) runNft(state, ['delete', 'table', 'inet', 'fw4'], '', nowMs);
      if (!findTable(state, 'inet', 'fw4')) runNft(state, ['add', 'table', 'inet', 'fw4'], '', nowMs);
      const result = runNft(state, ['-f', '-'], fw4Ruleset(lan, wan), nowMs);
      return { stdout: '', stderr: result.stderr, status: result.status };
    }
    case 'stop':
    case 'flush':
      // fw4 flush deletes every table `nft list tables` shows (lantop's too); stop only its own.
      for (const table of [...state.tables]) {
        if (action === 'flush' || (table.family === 'inet' && table.name === 'fw4')) runNft(state, ['delete', 'table', table.family, table.name], '', nowMs);
      }
      return { stdout: '', stderr: '', status: 0 };
    case 'print':
      return { stdout: fw4Ruleset(lan, wan), stderr: '', status: 0 };
    default:
      return { stdout: '', stderr: `Unknown command "${action}"\n`, status: 1 };
  }
}
