// The gateway's auth.log as the machine sees it (the gateway's /var/log is a dir of the lab's state),
// and its rotation as Debian's logrotate does it for rsyslog (/etc/logrotate.d/rsyslog: rotate 4,
// compress, delaycompress; /etc/logrotate.conf: create; postrotate: HUP to rsyslogd).
import { chownSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LabError, sleep } from './run-command.js';

/** Debian's adm group (gid 4; the gateway's /etc/group has the same). */
const ADM_GID = 4;
const KEEP = 4;

export function readLog(logDir: string, name = 'auth.log'): string {
  const path = join(logDir, name);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** Polls the log until `pattern` matches `count` lines (default 1); returns the matching lines. */
export async function waitForLog(logDir: string, pattern: RegExp, options: { count?: number; timeoutMs?: number; file?: string } = {}): Promise<string[]> {
  const count = options.count ?? 1;
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const flags = pattern.flags.replace('g', '');
  for (;;) {
    const lines = readLog(logDir, options.file).split('\n').filter((line) => new RegExp(pattern.source, flags).test(line));
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new LabError(`gateway lab: ${count} line(s) matching ${pattern} not in ${options.file ?? 'auth.log'} (found ${lines.length})`);
    await sleep(50);
  }
}

/**
 * auth.log → auth.log.1, auth.log.1 → auth.log.2.gz …, a new empty auth.log (0640 root:adm), then
 * `hup()` (rsyslogd closes its files and opens auth.log anew at the next line).
 */
export async function rotateLog(logDir: string, hup: () => Promise<void>, name = 'auth.log'): Promise<void> {
  const base = join(logDir, name);
  rmSync(`${base}.${KEEP}.gz`, { force: true });
  for (let n = KEEP - 1; n >= 2; n--) {
    if (existsSync(`${base}.${n}.gz`)) renameSync(`${base}.${n}.gz`, `${base}.${n + 1}.gz`);
  }
  if (existsSync(`${base}.1`)) {
    writeFileSync(`${base}.2.gz`, gzipSync(readFileSync(`${base}.1`)));
    rmSync(`${base}.1`);
  }
  if (existsSync(base)) renameSync(base, `${base}.1`);
  writeFileSync(base, '', { mode: 0o640 });
  chownSync(base, 0, ADM_GID);
  await hup();
}
