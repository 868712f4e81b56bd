// The read-only probes for fast paths that skip the firewall's counters (issue 19), as data.
// Every command is fixed text: nothing the router said, nor anything the user typed, is ever
// put into one. Each is a short POSIX/BusyBox-ash line whose errors go to /dev/null, so a
// missing tool or file answers with silence (and its parser returns null).
// offloadProbeScript() packs them into few shell lines, each answer preceded by a marker line,
// so the loader needs few round trips; parseOffloadAnswers() splits the answers again.
import type { FastPathKind, OffloadFinding, OffloadReport } from '../domain/offload-model.js';
import {
  offloadReport,
  parseBroadcomCtf,
  parseConntrackOffloadCounts,
  parseDdwrtSfe,
  parseEcmState,
  parseFcctlStatus,
  parseFw3FlowOffload,
  parseMediatekHnat,
  parseMediatekPpeBind,
  parseNftFlowtables,
  parseOpenwrtOffloadConfig,
  parseSfeSysfs,
} from './parsers/offload.js';

export interface OffloadProbe {
  /** Unique; names the marker line (`@@lantop-offload:<id>`). */
  id: string;
  /** The fast path it is mainly about (the parser's finding may name a related one). */
  kind: FastPathKind;
  /** Fixed shell text, read-only. */
  command: string;
  where: 'shell';
  /** Reads this probe's answer; null: that fast path is not on this router. */
  parse: (text: string) => OffloadFinding | null;
}

export const OFFLOAD_MARKER_PREFIX = '@@lantop-offload:';
/** A probe's command alone; a packed line (markers included) stays under OFFLOAD_LINE_MAX_BYTES. */
export const OFFLOAD_PROBE_MAX_BYTES = 400;
export const OFFLOAD_LINE_MAX_BYTES = 480;

export const OFFLOAD_PROBES: readonly OffloadProbe[] = [
  {
    // `fc` is a history builtin in bash/ksh: call Broadcom's by path so no shell edits history.
    id: 'broadcom-fcache',
    kind: 'broadcom-fcache',
    command: 'fcctl status 2>/dev/null || /bin/fc status 2>/dev/null',
    where: 'shell',
    parse: parseFcctlStatus,
  },
  {
    id: 'broadcom-ctf',
    kind: 'broadcom-ctf',
    command: 'echo "ctf_disable=$(nvram get ctf_disable 2>/dev/null)"; ls /proc/ctf 2>/dev/null',
    where: 'shell',
    parse: parseBroadcomCtf,
  },
  {
    id: 'ddwrt-sfe',
    kind: 'qualcomm-sfe',
    command: 'echo "sfe=$(nvram get sfe 2>/dev/null)"',
    where: 'shell',
    parse: parseDdwrtSfe,
  },
  {
    id: 'openwrt-fw3',
    kind: 'openwrt-fw3-flowoffload',
    command: 'iptables -S FORWARD 2>/dev/null | grep -F FLOWOFFLOAD',
    where: 'shell',
    parse: parseFw3FlowOffload,
  },
  {
    // Quoted: [0] is a glob pattern to the shell.
    id: 'openwrt-uci',
    kind: 'openwrt-fw4-flowtable',
    command:
      "echo \"sw=$(uci -q get 'firewall.@defaults[0].flow_offloading' 2>/dev/null)\"; echo \"hw=$(uci -q get 'firewall.@defaults[0].flow_offloading_hw' 2>/dev/null)\"; echo \"fw4=$(command -v fw4 2>/dev/null)\"",
    where: 'shell',
    parse: parseOpenwrtOffloadConfig,
  },
  {
    id: 'nft-flowtables',
    kind: 'flowtable',
    command: 'nft list flowtables 2>/dev/null',
    where: 'shell',
    parse: parseNftFlowtables,
  },
  {
    // A count on the router: the table can hold tens of thousands of entries.
    id: 'conntrack-offload',
    kind: 'conntrack-offload',
    command:
      "echo \"sw=$(grep -c -F '[OFFLOAD]' /proc/net/nf_conntrack 2>/dev/null)\"; echo \"hw=$(grep -c -F '[HW_OFFLOAD]' /proc/net/nf_conntrack 2>/dev/null)\"",
    where: 'shell',
    parse: parseConntrackOffloadCounts,
  },
  {
    id: 'qualcomm-ecm',
    kind: 'qualcomm-ecm',
    command:
      'for f in /sys/kernel/debug/ecm/front_end_ipv4_stop /proc/sys/net/ecm/front_end_ipv4_stop /sys/kernel/debug/ecm/ecm_nss_ipv4/accelerated_count /sys/kernel/debug/ecm/ecm_sfe_ipv4/accelerated_count /sys/kernel/debug/ecm/ecm_ppe_ipv4/accelerated_count; do [ -r "$f" ] && echo "$f=$(cat "$f" 2>/dev/null)"; done 2>/dev/null',
    where: 'shell',
    parse: parseEcmState,
  },
  {
    id: 'qualcomm-sfe',
    kind: 'qualcomm-sfe',
    command: 'ls -d /sys/fast_classifier /sys/sfe_ipv4 /sys/sfe_ipv6 2>/dev/null',
    where: 'shell',
    parse: parseSfeSysfs,
  },
  {
    id: 'mediatek-ppe',
    kind: 'mediatek-ppe',
    command: 'grep -c BND /sys/kernel/debug/ppe0/bind /sys/kernel/debug/ppe1/bind /sys/kernel/debug/mtk_ppe/bind 2>/dev/null',
    where: 'shell',
    parse: parseMediatekPpeBind,
  },
  {
    // Reading hook_toggle logs its state to the kernel log (pr_info), not to the file.
    id: 'mediatek-hnat',
    kind: 'mediatek-hnat',
    command:
      "if [ -e /sys/kernel/debug/hnat/hook_toggle ]; then echo hnat=present; echo \"bind=$(grep -c state=BIND /sys/kernel/debug/hnat/all_entry 2>/dev/null)\"; cat /sys/kernel/debug/hnat/hook_toggle >/dev/null 2>&1; dmesg 2>/dev/null | grep -F ', hook is ' | tail -n 1; fi",
    where: 'shell',
    parse: parseMediatekHnat,
  },
];

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function markerCommand(probe: OffloadProbe): string {
  return `echo ${OFFLOAD_MARKER_PREFIX}${probe.id}`;
}

/**
 * The probes packed into shell lines of at most OFFLOAD_LINE_MAX_BYTES, each answer preceded by
 * its marker line. Send each line as one command; concatenate what comes back for
 * parseOffloadAnswers.
 */
export function offloadProbeScript(probes: readonly OffloadProbe[] = OFFLOAD_PROBES, maxBytes: number = OFFLOAD_LINE_MAX_BYTES): string[] {
  // The router shell's line budget (FirmwareCapabilities.shellLineBytes) where it is shorter.
  const limit = Math.min(maxBytes, OFFLOAD_LINE_MAX_BYTES);
  const out: string[] = [];
  let line = '';
  for (const probe of probes) {
    const part = `${markerCommand(probe)}; ${probe.command}`;
    if (byteLength(part) > limit) continue; // does not fit this shell's lines: not probed here
    const joined = line === '' ? part : `${line}; ${part}`;
    if (byteLength(joined) <= limit) line = joined;
    else {
      out.push(line);
      line = part;
    }
  }
  if (line !== '') out.push(line);
  return out;
}

const MARKER_LINE = /^@@lantop-offload:([a-z0-9-]{1,40})$/;

/** Splits the probes' answers by marker and reads each; text before the first marker is ignored. */
export function splitOffloadAnswers(text: string): Map<string, string> {
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of (typeof text === 'string' ? text : '').split(/\r?\n|\r/)) {
    const m = MARKER_LINE.exec(raw.trim());
    // A marker counts once: a router printing one again cannot open a second section.
    if (m && !sections.has(m[1]!)) {
      current = [];
      sections.set(m[1]!, current);
      continue;
    }
    if (current !== null) current.push(raw);
  }
  const answers = new Map<string, string>();
  for (const [id, body] of sections) answers.set(id, body.join('\n'));
  return answers;
}

export function parseOffloadAnswers(text: string, atMs: number, probes: readonly OffloadProbe[] = OFFLOAD_PROBES): OffloadReport {
  const answers = splitOffloadAnswers(text);
  const findings: OffloadFinding[] = [];
  for (const probe of probes) {
    const answer = answers.get(probe.id);
    if (answer === undefined) continue;
    let result: OffloadFinding | null = null;
    try {
      result = probe.parse(answer);
    } catch {
      result = null; // parsers do not throw; a bug here must not break a poll
    }
    if (result) findings.push(result);
  }
  return offloadReport(findings, atMs);
}

/**
 * Sends the probes (as few lines as the shell's line budget allows) and reads the report; `exec`
 * null (no shell to run them in): an empty report, nothing sent.
 */
export async function runOffloadProbes(exec: ((line: string) => Promise<string>) | null, lineBytes: number | null, atMs: number): Promise<OffloadReport> {
  const answers: string[] = [];
  if (exec !== null) for (const line of offloadProbeScript(OFFLOAD_PROBES, lineBytes ?? undefined)) answers.push(await exec(line));
  return parseOffloadAnswers(answers.join('\n'), atMs);
}
