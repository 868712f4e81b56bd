// `lantop serve`'s live page (issue 17, docs/web.md): the per-device table of every router, updated
// from the server's event stream, and the history charts of the HTML report (report-page.ts's
// script, fed from /api/report/document). Pure: uPlot's files are handed in. The page holds no
// data itself (it loads without a token); its script asks /api/usage and /events for it, carrying
// the token the page was opened with (`/?token=…`). Every router text goes in with textContent.
//
// The inline scripts and styles are returned beside the HTML so the server can allow exactly them
// by hash in its Content-Security-Policy.

import { REPORT_CSS, reportChartsScript, type ReportAssets } from './report-page.js';

export interface LivePage {
  html: string;
  /** The text of each inline <script>, as in the HTML (for the CSP's hashes). */
  scripts: string[];
  /** The text of each inline <style>. */
  styles: string[];
}

/** Nothing in an inline script or style may close its element early. */
function inlineText(text: string, element: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1').replace(/<!--/g, '<\\!--');
}

export const LIVE_CSS = `
.lantop-live h2 .lantop-router-state { font-size: 0.75em; font-weight: normal; margin-left: 10px; padding: 2px 8px; border-radius: 10px; background: #e6f4ea; color: #1e6b34; }
.lantop-live h2 .lantop-router-state.down { background: #fde8e8; color: #a11; }
.lantop-live .lantop-router-meta { color: #666; margin: 2px 0 8px; }
.lantop-live .lantop-banner { padding: 8px 12px; border-radius: 6px; background: #fff4e5; color: #7a4a00; margin: 10px 0; }
.lantop-live .lantop-banner[hidden] { display: none; }
.lantop-live td.lantop-quota.warn { color: #9a5b00; font-weight: 600; }
.lantop-live td.lantop-quota.over, .lantop-live td.lantop-quota.blocked { color: #a11; font-weight: 600; }
.lantop-live .lantop-quotas { margin: 8px 0 0; padding-left: 18px; color: #444; }
.lantop-live .lantop-tabs { display: flex; gap: 6px; margin: 8px 0; align-items: center; flex-wrap: wrap; }
.lantop-live .lantop-tabs button { font: inherit; padding: 4px 12px; border: 1px solid #ccc; border-radius: 14px; background: #fff; cursor: pointer; }
.lantop-live .lantop-tabs button[aria-selected="true"] { background: #1d1d1f; color: #fff; border-color: #1d1d1f; }
.lantop-live .lantop-tabs select { font: inherit; padding: 3px 6px; margin-left: 10px; }
`;

// The browser side: plain ES2019 as text (the project compiles without the DOM library). No
// backticks or dollar-brace in it: it lives in a template literal.
export const LIVE_SCRIPT: string = String.raw`(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var token = params.get('token');
  var routers = new Map();
  var lastEventMs = 0;
  var chartPeriod = 'today';
  var chartRouter = null;
  var UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  var statusEl = document.getElementById('lantop-status');
  var bannerEl = document.getElementById('lantop-banner');
  var routersEl = document.getElementById('lantop-routers');
  var chartsEl = document.getElementById('lantop-charts');
  var chartStatusEl = document.getElementById('lantop-chart-status');
  var selectEl = document.getElementById('lantop-router-select');

  function formatBytes(v) {
    if (typeof v !== 'number' || !isFinite(v) || v < 0) return '\u2013';
    var u = 0;
    while (v >= 1000 && u < UNITS.length - 1) { v /= 1000; u++; }
    if (u === 0) return Math.round(v) + ' B';
    var text = v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
    if (Number(text) >= 1000 && u < UNITS.length - 1) return (v / 1000).toFixed(2) + ' ' + UNITS[u + 1];
    return text + ' ' + UNITS[u];
  }
  function formatShare(s) {
    return typeof s === 'number' && isFinite(s) && s >= 0 ? (s * 100).toFixed(1) + '%' : '\u2013';
  }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function clock(ms) {
    var d = new Date(ms);
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function withToken(path) {
    if (!token) return path;
    return path + (path.indexOf('?') >= 0 ? '&' : '?') + 'token=' + encodeURIComponent(token);
  }
  function getJson(path) {
    var headers = token ? { 'X-Lantop-Token': token } : {};
    return fetch(path, { headers: headers, cache: 'no-store', credentials: 'omit' }).then(function (res) {
      if (res.status === 401) throw { unauthorized: true };
      if (!res.ok) return res.json().then(function (body) { throw new Error(body && body.error ? body.error : 'HTTP ' + res.status); }, function () { throw new Error('HTTP ' + res.status); });
      return res.json();
    });
  }
  function showBanner(text) {
    bannerEl.textContent = text;
    bannerEl.hidden = !text;
  }
  function deviceName(h) {
    if (h.identity === 'unattributed:ipv6') return 'unattributed IPv6';
    return h.hostname || h.ip || h.identity;
  }
  var COLUMNS = [
    ['Device', ''], ['IP', ''], ['\u2193 Rate', 'num'], ['\u2191 Rate', 'num'], ['\u2193 Total', 'num'], ['\u2191 Total', 'num'], ['Share', 'num']
  ];

  function routerView(key) {
    var view = routers.get(key);
    if (view) return view;
    var section = el('section', 'lantop-router');
    section.setAttribute('data-router', key);
    var h2 = el('h2', null, key);
    var state = el('span', 'lantop-router-state', '');
    h2.appendChild(state);
    section.appendChild(h2);
    var meta = el('p', 'lantop-router-meta', '');
    section.appendChild(meta);
    var table = el('table', 'lantop-table lantop-live-table');
    var thead = el('thead');
    var headRow = el('tr');
    thead.appendChild(headRow);
    var tbody = el('tbody');
    var tfoot = el('tfoot');
    table.appendChild(thead);
    table.appendChild(tbody);
    table.appendChild(tfoot);
    section.appendChild(table);
    var quotas = el('ul', 'lantop-quotas');
    section.appendChild(quotas);
    routersEl.appendChild(section);
    view = { key: key, section: section, state: state, meta: meta, headRow: headRow, tbody: tbody, tfoot: tfoot, quotas: quotas, rows: new Map(), hasQuotaColumn: null, atMs: 0 };
    routers.set(key, view);
    var option = el('option', null, key);
    option.value = key;
    selectEl.appendChild(option);
    selectEl.hidden = routers.size < 2;
    if (chartRouter === null) { chartRouter = key; loadCharts(); }
    return view;
  }

  // Users mode (issue 18): the rows are a gateway's SSH users.
  function rowsWord(doc, n) {
    var word = doc.mode === 'users' ? 'user' : 'device';
    return n + ' ' + word + (n === 1 ? '' : 's');
  }
  function setHead(view, withQuota, doc) {
    if (view.hasQuotaColumn === withQuota) return;
    view.hasQuotaColumn = withQuota;
    while (view.headRow.firstChild) view.headRow.removeChild(view.headRow.firstChild);
    COLUMNS.concat(withQuota ? [['Quota', '']] : []).forEach(function (c, i) { view.headRow.appendChild(el('th', c[1], i === 0 && doc.mode === 'users' ? 'User' : c[0])); });
    view.rows.forEach(function (row) { row.tr.parentNode && row.tr.parentNode.removeChild(row.tr); });
    view.rows = new Map();
  }

  function rowOf(view, identity) {
    var row = view.rows.get(identity);
    if (row) return row;
    var tr = el('tr');
    tr.setAttribute('data-identity', identity);
    var cells = [];
    var n = COLUMNS.length + (view.hasQuotaColumn ? 1 : 0);
    for (var i = 0; i < n; i++) {
      var td = el('td', i === 0 ? 'lantop-name' : i >= 2 && i <= 6 ? 'num' : i === 7 ? 'lantop-quota' : '');
      tr.appendChild(td);
      cells.push(td);
    }
    row = { tr: tr, cells: cells };
    view.rows.set(identity, row);
    return row;
  }

  function set(td, text, key) {
    if (td.textContent !== text) td.textContent = text;
    if (key) td.setAttribute('data-field', key);
  }

  function quotaCell(doc, h) {
    if (h.blockedUntil) return { text: 'blocked until ' + clock(Date.parse(h.blockedUntil)), cls: 'blocked' };
    var worst = null;
    (doc.quotas || []).forEach(function (q) {
      if (q.subject && q.subject.kind === 'device' && q.subject.id === h.identity && (worst === null || q.percent > worst.percent)) worst = q;
    });
    if (worst === null) return { text: '', cls: '' };
    var text = worst.percent.toFixed(0) + '% of ' + formatBytes(worst.limitBytes) + ' (' + worst.period + ')';
    return { text: text, cls: worst.blocked ? 'blocked' : worst.percent >= 100 ? 'over' : worst.percent >= 80 ? 'warn' : '' };
  }

  function renderUsage(doc) {
    if (!doc || typeof doc.router !== 'string' || !Array.isArray(doc.hosts)) return;
    var view = routerView(doc.router);
    var atMs = Date.parse(doc.at);
    if (atMs < view.atMs) return;
    view.atMs = atMs;
    lastEventMs = Date.now();
    var isUp = doc.connection === 'connected';
    view.state.textContent = isUp ? 'live' : doc.connection === 'failed' ? 'router down' : 'router ' + doc.connection;
    view.state.className = 'lantop-router-state' + (isUp ? '' : ' down');
    view.section.setAttribute('data-connection', doc.connection);
    view.meta.textContent = 'Last update ' + clock(atMs) + ' \u00b7 ' + rowsWord(doc, doc.hosts.length) + (doc.pollLatencyMs !== null && doc.pollLatencyMs !== undefined ? ' \u00b7 poll ' + doc.pollLatencyMs + ' ms' : '');
    var withQuota = Array.isArray(doc.quotas) && doc.quotas.length > 0;
    setHead(view, withQuota, doc);
    var totalBytes = doc.totals.downBytes + doc.totals.upBytes;
    var hosts = doc.hosts.slice().sort(function (a, b) { return (b.downBytes + b.upBytes) - (a.downBytes + a.upBytes) || (a.ip < b.ip ? -1 : 1); });
    var seen = new Set();
    hosts.forEach(function (h, i) {
      seen.add(h.identity);
      var row = rowOf(view, h.identity);
      var c = row.cells;
      set(c[0], deviceName(h), 'name');
      set(c[1], h.ip || '', 'ip');
      set(c[2], formatBytes(h.downBps) + '/s', 'down-rate');
      set(c[3], formatBytes(h.upBps) + '/s', 'up-rate');
      set(c[4], formatBytes(h.downBytes), 'down-total');
      set(c[5], formatBytes(h.upBytes), 'up-total');
      set(c[6], formatShare(totalBytes > 0 ? (h.downBytes + h.upBytes) / totalBytes : 0), 'share');
      if (withQuota) {
        var q = quotaCell(doc, h);
        set(c[7], q.text, 'quota');
        c[7].className = 'lantop-quota' + (q.cls ? ' ' + q.cls : '');
      }
      if (view.tbody.children[i] !== row.tr) view.tbody.insertBefore(row.tr, view.tbody.children[i] || null);
    });
    view.rows.forEach(function (row, identity) {
      if (!seen.has(identity)) { row.tr.parentNode && row.tr.parentNode.removeChild(row.tr); view.rows.delete(identity); }
    });
    while (view.tfoot.firstChild) view.tfoot.removeChild(view.tfoot.firstChild);
    var foot = el('tr');
    var t = doc.totals;
    ['All ' + rowsWord(doc, doc.hosts.length), '', formatBytes(t.downBps) + '/s', formatBytes(t.upBps) + '/s', formatBytes(t.downBytes), formatBytes(t.upBytes), totalBytes > 0 ? '100.0%' : formatShare(0)]
      .concat(withQuota ? [''] : [])
      .forEach(function (text, i) { foot.appendChild(el('td', i >= 2 && i <= 6 ? 'num' : '', text)); });
    view.tfoot.appendChild(foot);
    while (view.quotas.firstChild) view.quotas.removeChild(view.quotas.firstChild);
    (doc.quotas || []).forEach(function (q) {
      var line = 'Quota ' + q.id + ': ' + q.name + ', ' + q.direction + ' ' + q.period + ': ' + formatBytes(q.usedBytes) + ' of ' + formatBytes(q.limitBytes) + ' (' + q.percent.toFixed(1) + '%)' + (q.blocked ? ', blocked' : '') + (q.reset ? ', resets ' + new Date(q.reset).toLocaleString() : '');
      view.quotas.appendChild(el('li', null, line));
    });
  }

  function renderAny(body) {
    (Array.isArray(body) ? body : [body]).forEach(renderUsage);
  }

  function loadCharts() {
    if (chartRouter === null) return;
    var q = '/api/report/document?period=' + encodeURIComponent(chartPeriod) + '&router=' + encodeURIComponent(chartRouter);
    var asked = chartPeriod + ' ' + chartRouter;
    chartStatusEl.textContent = 'Loading\u2026';
    getJson(q).then(function (doc) {
      if (asked !== chartPeriod + ' ' + chartRouter) return;
      if (doc === null) {
        window.lantopCharts.render(chartsEl, null);
        chartStatusEl.textContent = 'No history recorded for this router yet.';
        return;
      }
      chartStatusEl.textContent = doc.periodLabel + ' \u00b7 per ' + doc.granularity + ' \u00b7 ' + formatBytes(doc.totals.downBytes) + ' down, ' + formatBytes(doc.totals.upBytes) + ' up';
      window.lantopCharts.render(chartsEl, doc);
    }, function (e) {
      chartStatusEl.textContent = e && e.unauthorized ? 'The charts need the access token.' : 'Could not load the history: ' + (e && e.message ? e.message : e);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-period]'), function (button) {
    button.addEventListener('click', function () {
      chartPeriod = button.getAttribute('data-period');
      Array.prototype.forEach.call(document.querySelectorAll('[data-period]'), function (b) { b.setAttribute('aria-selected', b === button ? 'true' : 'false'); });
      loadCharts();
    });
  });
  selectEl.addEventListener('change', function () { chartRouter = selectEl.value; loadCharts(); });

  function tokenProblem() {
    statusEl.textContent = 'Not connected.';
    showBanner(token ? 'The access token in this address is wrong. Run “lantop serve token” on the computer running lantop and open the address it prints.' : 'This page needs the access token: open it as /?token=… (run “lantop serve token” on the computer running lantop to see it).');
  }

  // The stream replays each router's latest document on connect, so the table fills at once. A
  // browser reconnects by itself after a network error; an HTTP error (401, 503) closes the stream,
  // and the page asks /api/usage why.
  function connect() {
    var source = new EventSource(withToken('/events'));
    source.addEventListener('usage', function (e) {
      try { renderAny(JSON.parse(e.data)); } catch (err) { /* a broken event: wait for the next */ }
    });
    source.onopen = function () { statusEl.textContent = 'Live: updated on every poll.'; showBanner(''); };
    source.onerror = function () {
      if (source.readyState !== 2) {
        statusEl.textContent = 'Connection to lantop lost; reconnecting…';
        return;
      }
      getJson('/api/usage').then(function (body) {
        renderAny(body);
        showBanner('The live stream was refused (too many open pages?); trying again in 10 s.');
        setTimeout(connect, 10000);
      }, function (e) {
        if (e && e.unauthorized) return tokenProblem();
        showBanner('The live stream was refused; trying again in 10 s.');
        setTimeout(connect, 10000);
      });
    };
  }

  setInterval(function () {
    if (lastEventMs === 0) return;
    var age = Math.round((Date.now() - lastEventMs) / 1000);
    if (age >= 30) showBanner('No update for ' + age + ' s: is lantop serve still running?');
  }, 5000);
  setInterval(loadCharts, 60000);

  connect();
})();
`;

const BODY = `<main class="lantop-report lantop-live">
<header>
<h1>Traffic now</h1>
<p id="lantop-status" class="lantop-muted">Connecting\u2026</p>
<p id="lantop-banner" class="lantop-banner" role="status" hidden></p>
</header>
<div id="lantop-routers"></div>
<section id="lantop-history">
<h2>History</h2>
<div class="lantop-tabs" role="tablist">
<button type="button" role="tab" data-period="today" aria-selected="true">Today</button>
<button type="button" role="tab" data-period="month" aria-selected="false">This month</button>
<button type="button" role="tab" data-period="cycle" aria-selected="false">This cycle</button>
<select id="lantop-router-select" aria-label="Router" hidden></select>
</div>
<p id="lantop-chart-status" class="lantop-muted"></p>
<div id="lantop-charts" class="lantop-charts"></div>
</section>
<footer class="lantop-muted">Read-only: this page changes nothing on the router. For Prometheus: <a href="/metrics">/metrics</a>; JSON: /api/usage, /api/report.</footer>
</main>`;

/** The live page: one document that loads nothing from elsewhere. */
export function renderLivePage(assets: ReportAssets): LivePage {
  const styles = [inlineText(assets.uplotCss, 'style'), inlineText(REPORT_CSS + LIVE_CSS, 'style')];
  const scripts = [inlineText(assets.uplotJs, 'script'), inlineText(reportChartsScript(), 'script'), inlineText(LIVE_SCRIPT, 'script')];
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="lantop">
<link rel="icon" href="data:,">
<title>lantop: traffic now</title>
${styles.map((s) => `<style>${s}</style>`).join('\n')}
</head>
<body>
${BODY}
${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
  return { html, scripts, styles };
}
