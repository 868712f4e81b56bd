// Which emulated router `lantop demo` starts: `--firmware` names a family (router/firmware/
// families.ts) and the demo runs the persona that plays it; without it, the Broadcom one. Pure.

import type { Flavour } from './model.js';

export interface DemoPersona {
  flavour: Flavour;
  /** For the demo's first line: what is being emulated. */
  description: string;
}

const PERSONAS: Record<string, DemoPersona> = {
  'broadcom-cli': { flavour: 'broadcom', description: 'Broadcom router (vendor CLI, iptables)' },
  busybox: { flavour: 'busybox', description: 'BusyBox router (iptables)' },
  'openwrt-fw3': { flavour: 'busybox', description: 'OpenWrt router with iptables' },
  'openwrt-fw4': { flavour: 'openwrt-fw4', description: 'OpenWrt 23.05 router (firewall4 on nftables, dual-stack LAN)' },
};

export const DEMO_FIRMWARES: readonly string[] = Object.keys(PERSONAS);

/** The persona for `--firmware NAME` (none: broadcom-cli); null when no persona plays that family. */
export function demoPersona(firmware: string | undefined | null): DemoPersona | null {
  return PERSONAS[(firmware ?? 'broadcom-cli').trim().toLowerCase()] ?? null;
}

/** `--offload on|off` of `lantop demo` (the emulator's `offload` option); null for anything else. */
export function demoOffload(value: string | undefined | null): 'on' | 'off' | null {
  const text = (value ?? 'off').trim().toLowerCase();
  return text === 'on' || text === 'off' ? text : null;
}
