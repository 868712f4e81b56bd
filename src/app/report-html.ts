// `lantop report --html FILE [--open]` (issue 17, docs/reports.md): the ReportDocument rendered as one
// self-contained HTML file, written atomically (a temporary file beside it, then rename), or to
// stdout for `-`; `--open` hands the file to the desktop's opener, detached and without a shell.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { EXIT, UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { PeriodSpec } from '../domain/periods.js';
import { renderReportHtml } from '../output/html/report-page.js';
import { loadReportAssets } from './report-assets.js';
import { loadReportDocument } from './report-document.js';
import type { Services } from './services.js';

export type OpenResult = { opened: true; command: string } | { opened: false; reason: string };

/** Opens a file in the default browser: how, per platform. */
export function openerFor(platform: NodeJS.Platform, file: string): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [file] };
  // `start` is a cmd.exe built-in and cmd re-parses its line; explorer.exe takes the path as one argument.
  if (platform === 'win32') return { command: 'explorer.exe', args: [file] };
  return { command: 'xdg-open', args: [file] };
}

/** Starts the platform's opener, detached; resolves once it started or could not be found. */
export function openInBrowser(file: string, platform: NodeJS.Platform = process.platform): Promise<OpenResult> {
  const { command, args } = openerFor(platform, file);
  return new Promise((done) => {
    let child;
    try {
      child = spawn(command, args, { detached: true, stdio: 'ignore' });
    } catch (error) {
      done({ opened: false, reason: `${command}: ${(error as Error).message}` });
      return;
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      done({ opened: false, reason: error.code === 'ENOENT' ? `${command} was not found` : `${command}: ${error.message}` });
    });
    child.once('spawn', () => {
      child.unref();
      done({ opened: true, command });
    });
  });
}

/** Writes `text` to `file` whole or not at all: a temporary file in the same directory, then rename. */
export function writeFileAtomically(file: string, text: string): void {
  const path = resolve(file);
  const shown = sanitizeText(file);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    // absent: created below
  }
  if (isDirectory) throw new UsageError(`${shown} is a directory.`, 'Give a file name for the report, e.g. report.html.');
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`Cannot write ${shown}: its directory does not exist.`, 'Create the directory first, or give another path.', { cause: error });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new UsageError(`Cannot write ${shown}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}.`, 'Give a path you may write to.', { cause: error });
    throw error;
  }
}

export interface HtmlReportOptions {
  html?: string;
  open?: boolean;
  json?: boolean;
  csv?: boolean;
}

export async function runHtmlReport(
  deps: Pick<Services, 'clock' | 'io' | 'key' | 'openHistory'>,
  spec: PeriodSpec,
  options: HtmlReportOptions,
  opener: (file: string) => Promise<OpenResult> = openInBrowser,
): Promise<number> {
  const file = options.html;
  if (file === undefined) throw new UsageError('--open opens the HTML report: it needs --html FILE.', 'Run `lantop report --html report.html --open`.');
  if (options.json === true || options.csv === true) throw new UsageError(`--html cannot be combined with --${options.json === true ? 'json' : 'csv'}.`, 'Choose one output: --html FILE, --json or --csv.');
  if (file === '') throw new UsageError('--html needs a file name (or - for standard output).');
  if (file === '-' && options.open === true) throw new UsageError('--open needs a file: the report went to standard output.', 'Give --html a file name.');
  const store = deps.openHistory();
  let html: string;
  let summary: string;
  try {
    const doc = loadReportDocument(store, deps.key, spec, deps.clock.now());
    if (doc === null) throw new UsageError(`No history for ${sanitizeText(deps.key)} yet; no report written.`, 'Run `lantop` or `lantop usage --watch` to record some.');
    html = renderReportHtml(doc, loadReportAssets());
    summary = `${doc.hostCount} device${doc.hostCount === 1 ? '' : 's'}, period ${doc.periodLabel}`;
  } finally {
    store.close();
  }
  if (file === '-') {
    deps.io.stdout.write(html);
    deps.io.stderr.write(`Report written to standard output (${summary})\n`);
    return EXIT.ok;
  }
  writeFileAtomically(file, html);
  deps.io.stderr.write(`Report written to ${sanitizeText(file)} (${summary})\n`);
  if (options.open === true) {
    const result = await opener(resolve(file));
    deps.io.stderr.write(result.opened ? `Opening it with ${result.command}.\n` : `Could not open it (${result.reason}); open ${sanitizeText(resolve(file))} in a browser yourself.\n`);
  }
  return EXIT.ok;
}
