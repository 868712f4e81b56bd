// The chart library the HTML report and serve's live page inline (issue 17): uPlot's minified IIFE
// build and its stylesheet, read once from node_modules. uPlot's package.json has no "exports" map,
// so its dist files resolve directly. Its one-line banner is a URL; it is swapped for the MIT
// notice (the licence asks that it travel with the code, and the report names no external URL).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BugError } from '../errors.js';
import type { ReportAssets } from '../output/html/report-page.js';

let cached: ReportAssets | null = null;

function uplotDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('uplot/package.json'));
}

function withNotice(js: string, licence: string): string {
  const body = js.replace(/^\/\*![^*]*\*\/\s*/, '');
  return `/*! uPlot (MIT licence)\n${licence.replace(/\*\//g, '* /').trim()}\n*/\n${body}`;
}

/** uPlot's JS (with its licence) and CSS; read on first use, then cached. */
export function loadReportAssets(): ReportAssets {
  if (cached !== null) return cached;
  let dir: string;
  try {
    dir = uplotDir();
  } catch (error) {
    throw new BugError(`The chart library uPlot (the npm package "uplot", a dependency of lantop) is not installed; reinstall lantop.`, { cause: error });
  }
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch (error) {
      throw new BugError(`Cannot read uPlot's ${name} in ${dir} (${(error as Error).message}); the package "uplot" is incomplete, reinstall lantop.`, { cause: error });
    }
  };
  let licence = '';
  try {
    licence = readFileSync(join(dir, 'LICENSE'), 'utf8');
  } catch {
    licence = 'The MIT License (MIT). Copyright (c) 2022 Leon Sorokin.';
  }
  cached = { uplotJs: withNotice(read('dist/uPlot.iife.min.js'), licence), uplotCss: read('dist/uPlot.min.css') };
  return cached;
}
