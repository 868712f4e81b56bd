import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIVE_SCRIPT, renderLivePage } from './live-page.js';

const ASSETS = { uplotJs: 'var uPlot = function () {}; /* </script><script>alert(1)</script> */', uplotCss: '.u { } </style><b>x</b>' };

test('the page is self-contained: no URL to anywhere, no element closed early by the inlined code', () => {
  const page = renderLivePage(ASSETS);
  assert.doesNotMatch(page.html, /(?:src|href)\s*=\s*["']?(?!data:)[a-z]+:/i, 'no external src/href');
  assert.doesNotMatch(page.html, /https?:\/\//i, 'no URL at all');
  assert.equal((page.html.match(/<\/script>/g) ?? []).length, page.scripts.length, 'the hostile asset did not close a script');
  assert.equal((page.html.match(/<\/style>/g) ?? []).length, page.styles.length);
  for (const s of page.scripts) assert.ok(page.html.includes(`<script>${s}</script>`), 'each script exactly as hashed');
  for (const s of page.styles) assert.ok(page.html.includes(`<style>${s}</style>`), 'each style exactly as hashed');
  assert.match(page.html, /id="lantop-routers"/);
  assert.match(page.html, /data-period="today"[^]*data-period="month"[^]*data-period="cycle"/);
});

test('the browser script writes text only, and asks only its own server', () => {
  assert.doesNotMatch(LIVE_SCRIPT, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
  assert.match(LIVE_SCRIPT, /textContent/);
  const fetched = [...LIVE_SCRIPT.matchAll(/(?:getJson|EventSource)\((?:withToken\()?'([^']*)'/g)].map((m) => m[1]);
  assert.ok(fetched.length >= 2);
  for (const path of fetched) assert.match(path ?? '', /^\/(?:api|events)/);
  assert.match(LIVE_SCRIPT, /credentials: 'omit'/);
  // It must parse as a script (plain ES2019 for the browser).
  assert.doesNotThrow(() => new Function(LIVE_SCRIPT));
});
