// The live page as serve sends it (issue 17): rendered once at start, with a Content-Security-Policy
// that allows its own inline scripts and styles by SHA-256 hash, requests to itself only
// (connect-src 'self': /api and /events), and nothing from anywhere else.
import { createHash } from 'node:crypto';
import { renderLivePage } from '../../output/html/live-page.js';
import type { ReportAssets } from '../../output/html/report-page.js';
import { loadReportAssets } from '../report-assets.js';

const hashOf = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export function livePageCsp(scripts: readonly string[], styles: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src ${scripts.map(hashOf).join(' ')}`,
    `style-src ${styles.map(hashOf).join(' ')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function buildLivePage(assets: ReportAssets = loadReportAssets()): { html: string; csp: string } {
  const page = renderLivePage(assets);
  return { html: page.html, csp: livePageCsp(page.scripts, page.styles) };
}
