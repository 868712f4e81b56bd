// Deny over quota on the gateway (issue 18): the shell text that reads lantop's deny state and the
// text that changes it, and their answers split back. Pure; app/sshd-deny-port.ts runs them.
//
// A change is one script, so nothing is left half done between round trips:
//   1. keep the current file (the drop-in, or sshd_config) as `.lantop-prev`; sshd_config also gets
//      `.lantop-backup` once, before lantop's first change, and keeps it;
//   2. write the new one: the drop-in by printf of lantop's lines (none: the file is removed); the
//      block by printf of lantop's lines, then the rest of sshd_config through sed with the old block
//      taken out — the owner's lines never leave the gateway, so nothing of them can be lost in
//      transit. `cat >` keeps sshd_config's inode, owner and mode;
//   3. `sshd -t`: when it fails, the previous file goes back and sshd is not touched;
//   4. reload sshd (systemd, the init script, or SIGHUP to its pid file), which re-reads the config
//      for new logins without ending any session.
// Every value in the text is lantop's: login names that passed domain/login-name.ts, whole numbers,
// and the fixed lines of domain/sshd-deny.ts, all single-quoted.
import { BLOCK_BEGIN, BLOCK_END, DENY_DROP_IN, DENY_DROP_IN_DIR, SSHD_CONFIG, includesDropIn, markedBlockOf, type DenyPlace } from '../domain/sshd-deny.js';
import { canonicalLoginName } from '../domain/login-name.js';

const NONCE = /^[0-9a-f]{12}$/;
const READ_SECTIONS = ['dir', 'conf', 'block', 'dropin', 'sshd', 'self', 'end'] as const;
const WRITE_SECTIONS = ['valid', 'invalid', 'reload', 'ended', 'end'] as const;
type Section = (typeof READ_SECTIONS)[number] | (typeof WRITE_SECTIONS)[number];

function marker(nonce: string, name: Section, extra = ''): string {
  if (!NONCE.test(nonce)) throw new TypeError('nonce: 12 hex digits');
  // Split quotes: the echoed command line never matches the marker itself.
  return `echo "__LTSD""_${nonce}_${name}__${extra}"`;
}

function quote(text: string): string {
  if (text.includes("'")) throw new TypeError('no single quote in a deny line');
  return `'${text}'`;
}

/** sshd's path: on PATH, or where Debian and most distributions put it. */
const SSHD = '_sshd=$(command -v sshd 2>/dev/null || { [ -x /usr/sbin/sshd ] && echo /usr/sbin/sshd; })';
const BLOCK_SED = "'/^# >>> lantop deny/,/^# <<< lantop deny$/'";

/** The read-only look at the gateway: the drop-in directory, Include/Match lines, lantop's block and drop-in, sshd, whoami. */
export function denyReadCommand(nonce: string): string {
  return [
    `${marker(nonce, 'dir')}; [ -d ${DENY_DROP_IN_DIR} ] && echo yes`,
    `${marker(nonce, 'conf')}; grep -iE '^[[:space:]]*(include|match)[[:space:]=]' ${SSHD_CONFIG} 2>/dev/null`,
    `${marker(nonce, 'block')}; sed -n ${BLOCK_SED}p ${SSHD_CONFIG} 2>/dev/null`,
    `${marker(nonce, 'dropin')}; cat ${DENY_DROP_IN} 2>/dev/null`,
    `${SSHD}; ${marker(nonce, 'sshd')}; echo "$_sshd"`,
    `${marker(nonce, 'self')}; id -un`,
    marker(nonce, 'end'),
  ].join('; ');
}

export interface DenyState {
  place: DenyPlace;
  /** lantop's deny lines as they are now (the drop-in's, or the block's between the markers). */
  text: string;
  /** sshd's path, or null when the gateway has none lantop can find. */
  sshd: string | null;
  /** The user the gateway's shell runs as (`id -un`), or null when it is not a login name. */
  selfUser: string | null;
  /** Both places hold lantop's lines (a drop-in from when sshd_config included it): the other is cleaned too. */
  stale: DenyPlace | null;
  /** Why lantop must not change anything (display-safe), e.g. its block's end marker is gone. */
  problem: string | null;
}

function sectionsOf<S extends string>(text: string, nonce: string, names: readonly S[]): Map<S, { rest: string; body: string }> {
  const found: Array<{ name: S; at: number; end: number }> = [];
  for (const m of text.matchAll(new RegExp(`__LTSD_${nonce}_(${names.join('|')})__`, 'g'))) found.push({ name: m[1] as S, at: m.index, end: m.index + m[0].length });
  const out = new Map<S, { rest: string; body: string }>();
  for (const [i, f] of found.entries()) {
    if (out.has(f.name)) continue;
    const next = found[i + 1]?.at ?? text.length;
    const lineEnd = text.indexOf('\n', f.end);
    const restEnd = lineEnd < 0 || lineEnd > next ? next : lineEnd;
    out.set(f.name, { rest: text.slice(f.end, restEnd), body: text.slice(Math.min(restEnd + 1, next), next).replace(/\r/g, '') });
  }
  return out;
}

/** The read's answer; null when it is cut off (a section missing: nothing in it is trusted). */
export function parseDenyRead(answer: string, nonce: string): DenyState | null {
  const s = sectionsOf(answer, nonce, READ_SECTIONS);
  if (!READ_SECTIONS.every((n) => s.has(n))) return null;
  const body = (n: (typeof READ_SECTIONS)[number]) => s.get(n)!.body;
  const hasDir = body('dir').trim() === 'yes';
  const place: DenyPlace = hasDir && includesDropIn(body('conf')) ? 'drop-in' : 'block';
  const dropIn = body('dropin');
  const blockText = body('block');
  const block = blockText.trim() === '' ? '' : (markedBlockOf(blockText) ?? '');
  // sed's range would run to the end of sshd_config without the end marker: never edit then.
  const problem = blockText.trim() !== '' && !blockText.split('\n').includes(BLOCK_END) ? `${SSHD_CONFIG} has lantop's begin marker but not its end marker ("${BLOCK_END}"): fix the file by hand (lantop changes nothing)` : null;
  const sshd = body('sshd').trim();
  const self = canonicalLoginName(body('self').trim());
  const other = place === 'drop-in' ? block : dropIn;
  return {
    place,
    text: place === 'drop-in' ? dropIn : block,
    sshd: /^\/[A-Za-z0-9_./-]+$/.test(sshd) ? sshd : null,
    selfUser: self,
    stale: other.trim() === '' ? null : place === 'drop-in' ? 'block' : 'drop-in',
    problem,
  };
}

/** Reload sshd: systemd's unit (ssh on Debian, sshd elsewhere), the init script, or SIGHUP to its pid. */
const RELOAD =
  'if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet ssh 2>/dev/null; then systemctl reload ssh; ' +
  'elif command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet sshd 2>/dev/null; then systemctl reload sshd; ' +
  'elif [ -x /etc/init.d/ssh ]; then /etc/init.d/ssh reload; ' +
  'elif [ -x /etc/init.d/sshd ]; then /etc/init.d/sshd reload; ' +
  'elif [ -s /run/sshd.pid ]; then kill -HUP "$(cat /run/sshd.pid)"; ' +
  'elif [ -s /var/run/sshd.pid ]; then kill -HUP "$(cat /var/run/sshd.pid)"; ' +
  'else echo "no way to reload sshd found (systemctl, /etc/init.d/ssh, /run/sshd.pid)"; false; fi';

function writeDropIn(lines: readonly string[]): string[] {
  const f = DENY_DROP_IN;
  return [
    `rm -f ${f}.lantop-prev; if [ -e ${f} ]; then cp -p ${f} ${f}.lantop-prev; fi`,
    lines.length === 0 ? `rm -f ${f}` : `printf '%s\\n' ${lines.map(quote).join(' ')} > ${f}.lantop-new && chmod 644 ${f}.lantop-new && mv -f ${f}.lantop-new ${f}`,
  ];
}

function restoreDropIn(): string {
  const f = DENY_DROP_IN;
  return `if [ -e ${f}.lantop-prev ]; then mv -f ${f}.lantop-prev ${f}; else rm -f ${f}; fi`;
}

function writeBlock(lines: readonly string[]): string[] {
  const c = SSHD_CONFIG;
  const head = lines.length === 0 ? '' : `printf '%s\\n' ${[BLOCK_BEGIN, ...lines, BLOCK_END].map(quote).join(' ')}; `;
  return [
    `[ -e ${c}.lantop-backup ] || cp -p ${c} ${c}.lantop-backup`,
    `cp -p ${c} ${c}.lantop-prev`,
    `{ ${head}sed ${BLOCK_SED}d ${c}.lantop-prev; } > ${c}.lantop-new && cat ${c}.lantop-new > ${c}; rm -f ${c}.lantop-new`,
  ];
}

function restoreBlock(): string {
  const c = SSHD_CONFIG;
  return `cat ${c}.lantop-prev > ${c}`;
}

/**
 * The script that puts `lines` in `place` (and empties the other place when `stale` says lantop's
 * lines are there too), validates with `sshd -t`, reloads, and ends the given sshd processes of
 * denied users (`endPids`: pid → user; a pid is signalled only while its process title is that
 * user's sshd, so a reused pid is left alone).
 */
export function denyWriteCommand(nonce: string, state: Pick<DenyState, 'place' | 'sshd' | 'stale'>, lines: readonly string[], endPids: ReadonlyArray<{ pid: number; user: string }> = []): string {
  if (state.sshd === null) throw new TypeError('no sshd to validate with');
  const parts: string[] = [];
  const writes = state.place === 'drop-in' ? writeDropIn(lines) : writeBlock(lines);
  const restores = [state.place === 'drop-in' ? restoreDropIn() : restoreBlock()];
  if (state.stale === 'drop-in') {
    writes.push(...writeDropIn([]));
    restores.push(restoreDropIn());
  } else if (state.stale === 'block') {
    writes.push(...writeBlock([]));
    restores.push(restoreBlock());
  }
  parts.push(...writes);
  const ends = endPids.map(({ pid, user }) => {
    if (!Number.isSafeInteger(pid) || pid < 2) throw new TypeError('pid: a whole number above 1');
    if (canonicalLoginName(user) === null) throw new TypeError('user: a login name');
    const u = quote(user);
    // Debian's per-connection monitor is titled "sshd: USER [priv]", OpenSSH 9.8+ "sshd-session: USER [priv]".
    return `_t=$(tr '\\000' ' ' < /proc/${pid}/cmdline 2>/dev/null); case "$_t" in 'sshd: '${u}' '*|'sshd: '${u}'@'*|'sshd-session: '${u}' '*|'sshd-session: '${u}'@'*) kill -TERM ${pid} 2>/dev/null && echo ${pid};; esac`;
  });
  const sshd = state.sshd;
  parts.push(
    `if ${quote(sshd)} -t 2>&1; then ${marker(nonce, 'valid')}; rm -f ${DENY_DROP_IN}.lantop-prev ${SSHD_CONFIG}.lantop-prev; ${marker(nonce, 'reload')}; ${RELOAD} 2>&1; echo "reload-status $?"; ${marker(nonce, 'ended')}; ${ends.length > 0 ? ends.join('; ') : ':'}; ` +
      `else ${marker(nonce, 'invalid')}; ${restores.join('; ')}; rm -f ${DENY_DROP_IN}.lantop-prev ${SSHD_CONFIG}.lantop-prev; fi`,
    marker(nonce, 'end'),
  );
  return parts.join('; ');
}

export type DenyWriteOutcome =
  | { kind: 'done'; endedPids: number[] }
  /** `sshd -t` refused the new config: the previous one is back, sshd untouched. */
  | { kind: 'invalid'; output: string }
  /** Written and valid, but no reload worked: it applies at sshd's next reload or restart. */
  | { kind: 'not-reloaded'; output: string }
  /** The answer was cut off: what happened on the gateway is unknown (read again). */
  | { kind: 'unknown'; output: string };

export function parseDenyWrite(answer: string, nonce: string): DenyWriteOutcome {
  const s = sectionsOf(answer, nonce, WRITE_SECTIONS);
  const before = answer.split(`__LTSD_${nonce}_`)[0] ?? '';
  if (s.has('invalid')) return { kind: 'invalid', output: (before + s.get('invalid')!.body).trim() };
  if (!s.has('valid') || !s.has('end')) return { kind: 'unknown', output: answer.trim() };
  const reload = s.get('reload')?.body ?? '';
  const status = /reload-status (\d+)\s*$/.exec(reload.trim());
  if (status === null || status[1] !== '0') return { kind: 'not-reloaded', output: reload.replace(/reload-status \d+\s*$/, '').trim() };
  const endedPids = (s.get('ended')?.body ?? '').split('\n').map((l) => l.trim()).filter((l) => /^\d+$/.test(l)).map(Number);
  return { kind: 'done', endedPids };
}
