// What can this router do, and where? A pure decision from what the probes answered (probes.ts;
// run by probe-router.ts): the family (family-rules.ts), the command table (what runs where) and
// the capabilities, each with the evidence that decided it.
import type { ShellMode, ShellRoute } from '../../transport/session.js';
import { sanitizeText } from '../../sanitize.js';
import type { CommandSpec, DetectionDecision, FirmwareCapabilities, FirmwareCommands, FirmwareProfile, ProbeEvidence } from './families.js';
import { classifyRouterOutput } from '../parsers/router-errors.js';
import { keptLineBytes, LINE_PROBE_ERASE_BYTES, LINE_PROBE_FILL_BYTES, maxLineBytesForShell, maxLineBytesFromProbe } from './line-budget.js';
import { familyOf, leaseFileFor } from './family-rules.js';
import { Answers, atLeast, cliHelpWords, commentCapability, existingLeaseFiles, foundCommands, isArpTable, isLanHostsTable, isNeighbourCommandAccepted, nftJsonCapability, parseNftVersion, parseVersion } from './probe-answers.js';
import { LEASE_FILES, type ProbeAnswer, type ProbeId, type RouterProbes } from './probes.js';

function evidenceOf(answer: ProbeAnswer | undefined, isAccepted: boolean): ProbeEvidence[] {
  if (answer === undefined || typeof answer.output !== 'string') return [];
  const firstLines = answer.output.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, 2).join(' ⏎ ');
  return [{ command: answer.command, where: answer.where, answer: sanitizeText(firstLines, 120), isAccepted }];
}

const placeOf = (where: ShellMode, route: ShellRoute | null): string => (where === 'cli' ? 'the CLI' : route ? `the shell (via \`${route.enter}\`)` : 'the shell');

/**
 * Decides the family, the command table (what runs where) and the capabilities from probe
 * answers. Pure and total: a probe that was not run lowers confidence (nulls), it never throws.
 */
export function detectFirmware(probes: RouterProbes): FirmwareProfile {
  const a = new Answers(probes.answers);
  const decisions: DetectionDecision[] = [];
  const evidence: string[] = [];
  const route = probes.loginMode === 'cli' ? probes.shellRoute : null;
  const hasShell = probes.loginMode === 'shell' || route !== null;

  const { family, why } = familyOf(probes);
  evidence.push(why);
  decisions.push({ what: 'login', chosen: probes.loginMode === 'cli' ? 'a vendor CLI (the sentinel probe found no POSIX shell)' : 'a POSIX shell', tried: [] });
  decisions.push({ what: 'family', chosen: `${family}: ${why}`, tried: [...evidenceOf(a.get('release', 'shell'), true), ...evidenceOf(a.get('commands', 'shell'), true)] });
  if (probes.loginMode === 'cli') {
    const hint = [...cliHelpWords(a.output('help', 'cli'))].filter((w) => ['arp', 'lanhosts', 'iptables', 'sh', 'shell'].includes(w));
    evidence.push(`CLI help lists ${hint.join(', ') || 'none of arp/lanhosts/iptables/sh/shell'} (a hint only)`);
    const tried: ProbeEvidence[] = probes.shellEntriesTried.map((entry) => ({ command: entry, where: 'cli', answer: entry === route?.enter ? 'a POSIX shell (sentinel probe)' : 'no shell', isAccepted: entry === route?.enter }));
    decisions.push({ what: 'shell', chosen: route ? `\`${route.enter}\` leads to a shell, \`${route.exit}\` back` : 'no shell behind the CLI', tried });
    evidence.push(route ? `\`${route.enter}\` reaches a shell` : `no shell (tried ${probes.shellEntriesTried.join(', ') || 'nothing'})`);
  }

  const table: FirmwareCommands = {
    shellRoute: route,
    listArp: { command: 'cat /proc/net/arp', where: 'shell' },
    listNames: null,
    iptables: null,
    iptablesRestore: null,
    ip6tables: null,
    ip6tablesRestore: null,
    nft: null,
    listNeighbours6: null,
  };

  // iptables: the shell first (sentinel framing, exit status, iptables-restore), else the CLI.
  const shellVersion = hasShell ? parseVersion(a.output('iptables-version', 'shell')) : null;
  const cliVersion = probes.loginMode === 'cli' ? parseVersion(a.output('iptables-version', 'cli')) : null;
  const version = shellVersion ?? cliVersion;
  const iptablesWhere: ShellMode | null = shellVersion ? 'shell' : cliVersion ? 'cli' : null;
  if (iptablesWhere !== null) table.iptables = { binary: 'iptables', command: 'iptables', where: iptablesWhere };
  decisions.push({
    what: 'iptables',
    chosen: iptablesWhere && version ? `\`iptables\` in ${placeOf(iptablesWhere, route)}: v${version.version} (${version.backend})` : 'no iptables answered',
    tried: [...evidenceOf(a.get('iptables-version', 'shell'), shellVersion !== null), ...evidenceOf(a.get('iptables-version', 'cli'), cliVersion !== null)],
  });
  if (version && iptablesWhere) evidence.push(`iptables v${version.version} (${version.backend}) in ${placeOf(iptablesWhere, route)}`);
  else evidence.push('no iptables answered');

  const found = foundCommands(a.output('commands', 'shell'));
  if (iptablesWhere === 'shell' && found.has('iptables-restore')) table.iptablesRestore = { command: 'iptables-restore', where: 'shell' };
  const batchAnswer = a.get('shell-batch', 'shell');
  const isBatchShell = batchAnswer === undefined || batchAnswer.output.trim() === '1_';
  decisions.push({
    what: 'batch',
    chosen: iptablesWhere === 'shell' && !isBatchShell
      ? 'changes line by line (this shell does not run what batching needs)'
      : table.iptablesRestore ? 'changes in one batch with `iptables-restore --noflush`' : iptablesWhere === 'shell' ? 'changes as a few shell lines (no iptables-restore)' : iptablesWhere === 'cli' ? 'changes line by line (the CLI runs one command per line)' : 'no changes possible',
    tried: [...evidenceOf(a.get('commands', 'shell'), table.iptablesRestore !== null), ...evidenceOf(batchAnswer, isBatchShell)],
  });

  // ARP: where iptables runs first (fewer mode changes per poll), then anywhere that parsed.
  const home: ShellMode = iptablesWhere ?? probes.loginMode;
  const arpCandidates: Array<{ id: ProbeId; spec: CommandSpec }> = [
    { id: 'proc-net-arp', spec: { command: 'cat /proc/net/arp', where: 'shell' } },
    { id: 'ip-neigh', spec: { command: 'ip -4 neigh show', where: 'shell' } },
    { id: 'arp-show', spec: { command: 'arp show', where: 'cli' } },
  ];
  const arpTried = arpCandidates.flatMap((c) => evidenceOf(a.get(c.id, c.spec.where), isArpTable(a.output(c.id, c.spec.where))));
  const arpOk = arpCandidates.filter((c) => (c.spec.where === 'cli' || hasShell) && isArpTable(a.output(c.id, c.spec.where)));
  const arp = arpOk.find((c) => c.spec.where === home) ?? arpOk[0];
  if (arp) table.listArp = arp.spec;
  else if (probes.loginMode === 'cli' && !hasShell) table.listArp = { command: 'arp show', where: 'cli' };
  decisions.push({ what: 'arp', chosen: arp ? `\`${arp.spec.command}\` in ${placeOf(arp.spec.where, route)}` : `nothing parsed; will try \`${table.listArp.command}\``, tried: arpTried });

  // Names: a lease file in the shell, or the CLI's `lanhosts show all`; a nicety, may be none.
  const leaseFile = hasShell ? leaseFileFor(family, existingLeaseFiles(a.output('lease-files', 'shell'))) : null;
  const leaseAnswer = a.get('leases', 'shell');
  const isLeaseOk = leaseFile !== null && leaseAnswer !== undefined && classifyRouterOutput(leaseAnswer.output) === null;
  const isLanhostsOk = probes.loginMode === 'cli' && isLanHostsTable(a.output('lanhosts', 'cli'));
  const nameCandidates: Array<FirmwareCommands['listNames'] & object> = [];
  if (isLeaseOk) nameCandidates.push({ command: `cat ${leaseFile}`, where: 'shell', parser: 'dhcp-leases' });
  if (isLanhostsOk) nameCandidates.push({ command: 'lanhosts show all', where: 'cli', parser: 'lan-hosts' });
  table.listNames = nameCandidates.find((c) => c.where === home) ?? nameCandidates[0] ?? null;
  decisions.push({
    what: 'names',
    chosen: table.listNames
      ? `\`${table.listNames.command}\` in ${placeOf(table.listNames.where, route)}`
      : `none: ${hasShell ? `no lease file in ${LEASE_FILES.join(', ')}` : 'no shell to read lease files'}${probes.loginMode === 'cli' ? ', and `lanhosts show all` did not answer with a host table' : ''}; devices show by address and MAC`,
    tried: [...evidenceOf(a.get('lease-files', 'shell'), leaseFile !== null), ...evidenceOf(leaseAnswer, isLeaseOk), ...evidenceOf(a.get('lanhosts', 'cli'), isLanhostsOk)],
  });

  // ip6tables: in the shell beside a shell iptables (a vendor CLI passes only `iptables` through).
  const v6 = hasShell && iptablesWhere === 'shell' ? parseVersion(a.output('ip6tables-version', 'shell')) : null;
  if (v6 !== null) {
    table.ip6tables = { binary: 'ip6tables', command: 'ip6tables', where: 'shell' };
    if (table.iptablesRestore !== null && found.has('ip6tables-restore')) table.ip6tablesRestore = { command: 'ip6tables-restore', where: 'shell' };
  }
  decisions.push({
    what: 'ip6tables',
    chosen: v6 !== null ? `\`ip6tables\` in the shell: v${v6.version} (${v6.backend}): IPv6 hosts counted beside IPv4` : iptablesWhere === 'cli' ? 'not looked for: iptables runs in the vendor CLI, which passes only `iptables` through' : 'no ip6tables answered',
    tried: evidenceOf(a.get('ip6tables-version', 'shell'), v6 !== null),
  });
  // nft: always in the shell.
  const nftVersion = hasShell ? parseNftVersion(a.output('nft-version', 'shell')) : null;
  const hasNftJson = nftVersion !== null ? nftJsonCapability(a.output('nft-json', 'shell')) : null;
  if (nftVersion !== null) table.nft = { command: 'nft', where: 'shell' };
  decisions.push({
    what: 'nft',
    chosen: nftVersion !== null ? `\`nft\` in the shell: v${nftVersion}, ${hasNftJson === true ? 'with JSON output' : hasNftJson === false ? 'without JSON output (text listings)' : 'JSON output not determined'}` : 'no nft answered',
    tried: [...evidenceOf(a.get('nft-version', 'shell'), nftVersion !== null), ...evidenceOf(a.get('nft-json', 'shell'), hasNftJson === true)],
  });
  // The IPv6 neighbour table: `ip -6 neigh show` where it answers without an error.
  const neigh6 = a.get('ip6-neigh', 'shell');
  const isNeigh6Ok = hasShell && isNeighbourCommandAccepted(neigh6?.output);
  if (isNeigh6Ok) table.listNeighbours6 = { command: 'ip -6 neigh show', where: 'shell' };
  decisions.push({
    what: 'ipv6-neighbours',
    chosen: isNeigh6Ok ? '`ip -6 neigh show` in the shell' : 'none: IPv6 devices are not discovered (counters of IPv6 addresses, if any, stay unattributed)',
    tried: evidenceOf(neigh6, isNeigh6Ok),
  });

  const nftOnly = version === null && nftVersion !== null;
  if (nftOnly) evidence.push(`nftables only (nft v${nftVersion}): counted with lantop's own nftables table`);
  else if (version === null && (found.has('nft') || family === 'openwrt-fw4')) evidence.push('nft was listed by `which` but did not answer `nft -v`');
  if (nftVersion !== null && version !== null) evidence.push(`nft v${nftVersion} too: \`--backend nftables\` counts with it instead of iptables`);
  const commentAnswer = iptablesWhere ? a.get('iptables-comment', iptablesWhere) : undefined;
  const line = lineDecision(a, hasShell);
  if (line.decision) decisions.push(line.decision);
  const capabilities: FirmwareCapabilities = {
    hasCommentMatch: version ? commentCapability(commentAnswer?.output) : null,
    hasCheck: version ? atLeast(version.parts, [1, 4, 11]) : null,
    iptablesVersion: version?.version ?? null,
    backend: version?.backend ?? null,
    shellLineBytes: line.bytes,
    hasShellBatch: hasShell && a.get('shell-batch', 'shell') !== undefined ? a.output('shell-batch', 'shell')!.trim() === '1_' : null,
    nftOnly,
    nftVersion,
    hasNftJson,
  };
  if (version) {
    decisions.push({
      what: 'comment',
      chosen: capabilities.hasCommentMatch === true ? 'rules tagged with `-m comment`' : capabilities.hasCommentMatch === false ? 'no comment match: rules recognised by their shape' : 'comment match not determined: tried at setup',
      tried: evidenceOf(commentAnswer, capabilities.hasCommentMatch === true),
    });
  }
  return { family, commands: table, capabilities, evidence, decisions, source: 'probed' };
}

/**
 * The line budget: what the line probe measured, else what the shell's name says, else unknown
 * (null: batch conservatively). The probe's own line is 3.2 kB, so the evidence names it short and
 * shows only its marker.
 */
function lineDecision(a: Answers, hasShell: boolean): { bytes: number | null; decision: DetectionDecision | null } {
  if (!hasShell) return { bytes: null, decision: null };
  const exe = a.get('shell-exe', 'shell');
  const probe = a.get('shell-line', 'shell');
  const byName = exe === undefined ? null : maxLineBytesForShell(exe.output.trim().split(/\r?\n/)[0] ?? null);
  const measured = probe === undefined ? null : maxLineBytesFromProbe(probe.output);
  const bytes = measured ?? byName;
  if (bytes === null) return { bytes, decision: null };
  const kept = probe === undefined ? null : keptLineBytes(probe.output);
  const tried: ProbeEvidence[] = [...evidenceOf(exe, measured === null)];
  if (probe !== undefined) {
    const marker = /__LTLL_\d+__/.exec(probe.output)?.[0] ?? probe.output.split(/\r?\n/).filter((l) => l.trim() !== '').at(-1) ?? '';
    tried.push({ command: `_L=<${LINE_PROBE_FILL_BYTES} × a><${LINE_PROBE_ERASE_BYTES} × DEL>;echo "__LT""LL_\${#_L}__";_L=`, where: 'shell', answer: sanitizeText(marker, 120), isAccepted: measured !== null });
  }
  const why = kept === 'whole' ? 'the shell took the 3.2 kB probe line whole' : typeof kept === 'number' ? `the shell keeps ${kept} bytes of a line (line probe)` : probe !== undefined ? 'the line probe answered nothing readable; by the shell\'s name' : 'by the shell\'s name';
  return { bytes, decision: { what: 'line', chosen: `batched lines of up to ${bytes} bytes: ${why}`, tried } };
}
