// test-file-timeout: 120
// The Grafana dashboard (grafana/lantop-dashboard.json, docs/grafana.md) against what `lantop serve`
// really exports: every PromQL expression (panel targets and the `router` variable) is tokenised,
// and each metric it selects must have samples in a real /metrics scrape of serve polling the
// emulated router (with traffic classes set up), each label in its matchers and in `by (…)` must be
// on that metric. Renaming a metric or a label in src/output/prometheus.ts fails this test.
// Also: the file is in Grafana's export format (a ${DS_PROMETHEUS} input, schemaVersion ≥ 38).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { runCliAsync, spawnCli } from './helpers/run-cli.js';

const DASHBOARD_PATH = new URL('../grafana/lantop-dashboard.json', import.meta.url);

// ---- a small PromQL reader ------------------------------------------------------------------

type Token = { kind: 'ident' | 'number' | 'string' | 'punct' | 'op'; text: string };

/** PromQL text → tokens. Durations in `[…]` and `offset 5m` come out as numbers; Grafana's `$vars` as idents. */
function tokenizePromQl(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c !== '`' ? 2 : 1;
      if (j >= expr.length) throw new SyntaxError(`unterminated string in ${expr}`);
      tokens.push({ kind: 'string', text: expr.slice(i + 1, j) });
      i = j + 1;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(?:0x[0-9a-f]+|[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?(?:(?:ms|s|m|h|d|w|y)[0-9]*)*)/i.exec(expr.slice(i));
      if (!m || m[0] === '') throw new SyntaxError(`bad number at ${expr.slice(i)}`);
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_:$]/.test(c)) {
      const m = /^\$?\{?[A-Za-z_:][A-Za-z0-9_:]*\}?/.exec(expr.slice(i))!;
      tokens.push({ kind: 'ident', text: m[0] });
      i += m[0].length;
    } else if ('(){}[],'.includes(c)) {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else {
      const m = /^(?:=~|!~|!=|==|<=|>=|[-+*/%^<>=])/.exec(expr.slice(i));
      if (!m) throw new SyntaxError(`unexpected ${JSON.stringify(c)} in ${expr}`);
      tokens.push({ kind: 'op', text: m[0] });
      i += m[0].length;
    }
  }
  return tokens;
}

/** Words that are never metric names: binary operators, modifiers and literals (functions are told by their `(`). */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'atan2']);
/** Aggregation operators: `sum by (x) (…)` puts a keyword, not a `(`, after the name. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
/** Keywords followed by a label list. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

interface ExpressionUse {
  /** Each selected metric with the labels its own matchers name. */
  selectors: { metric: string; labels: string[] }[];
  /** Labels of `by (…)`, `on (…)`, `ignoring (…)`, `group_left (…)`: each must be on the metrics selected. */
  groupingLabels: string[];
}

/** The metrics and labels a PromQL expression uses (functions, keywords, numbers, durations, strings skipped). */
function usesOf(expr: string): ExpressionUse {
  const tokens = tokenizePromQl(expr);
  const use: ExpressionUse = { selectors: [], groupingLabels: [] };
  const readLabelList = (start: number, close: string, into: string[]): number => {
    let i = start;
    while (i < tokens.length && tokens[i]!.text !== close) {
      const t = tokens[i]!;
      if (t.kind === 'ident') {
        into.push(t.text);
        if (close === '}') {
          // name op "value": skip the operator and the value.
          assert.equal(tokens[i + 1]?.kind, 'op', `a matcher operator after ${t.text} in ${expr}`);
          assert.equal(tokens[i + 2]?.kind, 'string', `a quoted value after ${t.text} in ${expr}`);
          i += 3;
          continue;
        }
      } else if (t.text !== ',') {
        throw new SyntaxError(`unexpected ${t.text} in a label list of ${expr}`);
      }
      i++;
    }
    if (i >= tokens.length) throw new SyntaxError(`unclosed label list in ${expr}`);
    return i + 1;
  };
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    if (t.kind === 'punct' && t.text === '[') {
      while (i < tokens.length && tokens[i]!.text !== ']') i++; // a range or subquery duration ($__range, 5m:1m)
      i++;
    } else if (t.kind === 'ident' && LABEL_LIST_KEYWORDS.has(t.text) && next?.text === '(') {
      i = readLabelList(i + 2, ')', use.groupingLabels);
    } else if (t.kind === 'ident' && (KEYWORDS.has(t.text.toLowerCase()) || AGGREGATIONS.has(t.text.toLowerCase()) || next?.text === '(' || t.text.startsWith('$'))) {
      i++; // a keyword, a function or aggregation (sum, rate, increase, topk, histogram_quantile…), a Grafana variable
    } else if (t.kind === 'ident') {
      const labels: string[] = [];
      i = next?.text === '{' ? readLabelList(i + 2, '}', labels) : i + 1;
      use.selectors.push({ metric: t.text, labels });
    } else if (t.kind === 'punct' && t.text === '{') {
      const labels: string[] = [];
      i = readLabelList(i + 1, '}', labels);
      use.selectors.push({ metric: '', labels }); // {__name__="…"}: not used by the dashboard, flagged below
    } else {
      i++;
    }
  }
  return use;
}

// ---- the dashboard's expressions --------------------------------------------------------------

interface Dashboard {
  __inputs?: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: { id: number; type: string; title: string; datasource?: { uid: string }; gridPos: { x: number; y: number; w: number; h: number }; targets?: { expr: string; refId: string; datasource?: { uid: string } }[] }[];
  templating: { list: { name: string; type: string; query: unknown; definition?: string; datasource?: { uid: string } }[] };
}

function loadDashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as Dashboard;
}

/** Every PromQL expression of the dashboard, named by where it is; `label_values(m, l)` becomes `m` + label `l`. */
function expressionsOf(dashboard: Dashboard): { where: string; use: ExpressionUse; expr: string }[] {
  const out: { where: string; use: ExpressionUse; expr: string }[] = [];
  for (const panel of dashboard.panels) {
    for (const target of panel.targets ?? []) out.push({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr, use: usesOf(target.expr) });
  }
  for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query: string }).query;
    const m = /^label_values\(\s*(.+?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(query);
    assert.ok(m, `variable ${variable.name}: a label_values(metric, label) query, got ${query}`);
    const use = usesOf(m[1]!);
    use.groupingLabels.push(m[2]!);
    out.push({ where: `variable $${variable.name}`, expr: query, use });
  }
  return out;
}

// ---- what lantop exports ----------------------------------------------------------------------

/** metric name → the labels seen on its samples (samples only: a metric declared but never set is absent). */
function labelsByMetric(exposition: string): Map<string, Set<string>> {
  const metrics = new Map<string, Set<string>>();
  for (const line of exposition.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/.exec(line);
    assert.ok(m, `well-formed sample line: ${JSON.stringify(line)}`);
    const labels = metrics.get(m[1]!) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) labels.add(l[1]!);
    metrics.set(m[1]!, labels);
  }
  return metrics;
}

/** What in the dashboard the exposition does not have: one line per problem. */
function problemsOf(dashboard: Dashboard, exposition: string): string[] {
  const exported = labelsByMetric(exposition);
  const problems: string[] = [];
  for (const { where, use, expr } of expressionsOf(dashboard)) {
    if (use.selectors.length === 0) problems.push(`${where}: selects no metric: ${expr}`);
    for (const { metric, labels } of use.selectors) {
      const has = exported.get(metric);
      if (has === undefined) {
        problems.push(`${where}: metric ${metric || '(no name)'} is not in lantop's /metrics`);
        continue;
      }
      for (const label of [...labels, ...use.groupingLabels]) if (!has.has(label)) problems.push(`${where}: ${metric} has no label ${label}`);
    }
  }
  return problems;
}

// ---- tests ----------------------------------------------------------------------------------

test('the PromQL reader finds metrics and labels, and skips functions, keywords, numbers and durations', () => {
  assert.deepEqual(usesOf('histogram_quantile(0.95, sum by (le, router) (rate(lantop_poll_duration_seconds_bucket{router=~"$router"}[$__rate_interval])))'), {
    selectors: [{ metric: 'lantop_poll_duration_seconds_bucket', labels: ['router'] }],
    groupingLabels: ['le', 'router'],
  });
  assert.deepEqual(usesOf('topk(10, sum(increase(a_total{x="1", y!~"b,c}"}[1h30m] offset 5m))) by (z) / on (router) group_left (kind) b unless c > bool 2e3'), {
    selectors: [{ metric: 'a_total', labels: ['x', 'y'] }, { metric: 'b', labels: [] }, { metric: 'c', labels: [] }],
    groupingLabels: ['z', 'router', 'kind'],
  });
  assert.deepEqual(usesOf('sum without (ip) (rate(m[5m:1m]))').selectors, [{ metric: 'm', labels: [] }]);
  assert.throws(() => usesOf('m{x="unterminated}'), SyntaxError);
});

test('the dashboard is an importable Grafana export: a ${DS_PROMETHEUS} input, schema ≥ 38, a router variable, one grid', () => {
  const d = loadDashboard();
  assert.ok(d.schemaVersion >= 38, `schemaVersion ${d.schemaVersion}`);
  assert.deepEqual(d.__inputs?.map((x) => [x.name, x.type, x.pluginId]), [['DS_PROMETHEUS', 'datasource', 'prometheus']]);
  assert.match(d.uid, /^[A-Za-z0-9_-]{1,40}$/);
  const router = d.templating.list.find((v) => v.name === 'router');
  assert.equal(router?.type, 'query');
  assert.equal(router?.datasource?.uid, '${DS_PROMETHEUS}');
  const ids = d.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'unique panel ids');
  const types = new Set(d.panels.map((p) => p.type));
  for (const type of types) assert.ok(['stat', 'gauge', 'timeseries', 'bargauge', 'piechart'].includes(type), `a panel type Grafana 10 ships: ${type}`);
  for (const type of ['timeseries', 'bargauge', 'piechart', 'gauge', 'stat']) assert.ok(types.has(type), `a ${type} panel`);
  for (const p of d.panels) {
    assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `${p.title}: the templated data source`);
    assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${p.title}: inside the 24-column grid`);
    assert.ok((p.targets ?? []).length > 0, `${p.title}: has a query`);
    for (const t of p.targets ?? []) {
      assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}', `${p.title} ${t.refId}`);
      assert.match(t.expr, /router=~"\$router"/, `${p.title} ${t.refId}: follows the router variable`);
    }
  }
  // No two panels overlap.
  const cells = new Set<string>();
  for (const p of d.panels) {
    for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`);
        cells.add(`${x},${y}`);
      }
    }
  }
  // What the issue asks for: per-device rates, totals over $__range, shares, accounted %, router up.
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
  for (const needed of ['lantop_host_rate_bytes_per_second', 'increase(lantop_host_bytes_total', '[$__range]', 'lantop_accounted_ratio', 'lantop_up', 'lantop_wan_bytes_total', 'lantop_class_']) {
    assert.ok(exprs.includes(needed), needed);
  }
});

describe('against the real /metrics of lantop serve', () => {
  let router: EmulatedRouter | undefined;
  let child: ChildProcess | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let dir = '';
  let exposition = '';

  before(async () => {
    router = await startEmulatedRouter({ clock: 'manual', churn: false, traffic: true, seed: 5, hostCount: 4 });
    dir = mkdtempSync(join(tmpdir(), 'lantop-grafana-'));
    const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
    const base = ['--host', router.host, '--port', String(router.port)];
    // Traffic classes too, so that lantop_class_* have samples.
    const setup = await runCliAsync([...base, 'setup', '--yes', '--ports', '443,udp/53'], env);
    assert.equal(setup.code, 0, setup.stderr);
    child = spawnCli([...base, 'serve', '--listen', '127.0.0.1:0', '--interval', '500'], env);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout?.resume();
    let url = '';
    for (let i = 0; i < 200 && url === '' && child.exitCode === null; i++) {
      url = /(http:\/\/\S+)\/metrics/.exec(stderr)?.[1] ?? '';
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `serve started: ${stderr}`);
    const emulated = router;
    ticker = setInterval(() => emulated.tick(1000), 50);
    // Until every family has samples: rates, WAN, the accounted ratio (after enough crossed), classes, polls.
    const wanted = ['lantop_host_rate_bytes_per_second', 'lantop_wan_bytes_total', 'lantop_router_own_bytes_total', 'lantop_accounted_ratio', 'lantop_class_rate_bytes_per_second', 'lantop_offload_active', 'lantop_poll_duration_seconds_bucket'];
    for (let i = 0; i < 150; i++) {
      exposition = await (await fetch(`${url}/metrics`)).text();
      const names = labelsByMetric(exposition);
      if (wanted.every((name) => names.has(name)) && /^lantop_accounted_ratio\{[^}]*window="recent"/m.test(exposition)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    if (ticker) clearInterval(ticker);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await router?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every metric the dashboard queries has samples, with every label it matches or groups by', () => {
    const dashboard = loadDashboard();
    assert.ok(expressionsOf(dashboard).length >= 15, 'the dashboard has its queries');
    const problems = problemsOf(dashboard, exposition);
    assert.deepEqual(problems, [], `${problems.join('\n')}\nexposition:\n${exposition.split('\n').filter((l) => l.startsWith('lantop_') && !l.includes('_bucket')).join('\n')}`);
  });

  test('a renamed metric or label fails the check', () => {
    const dashboard = loadDashboard();
    const renamedMetric = exposition.replaceAll('lantop_host_rate_bytes_per_second', 'lantop_host_rate_bps');
    assert.ok(problemsOf(dashboard, renamedMetric).some((p) => p.includes('metric lantop_host_rate_bytes_per_second is not in')));
    const renamedLabel = exposition.replace(/\bhostname="/g, 'name="');
    assert.ok(problemsOf(dashboard, renamedLabel).some((p) => p.includes('has no label hostname')));
    const noClasses = exposition.split('\n').filter((l) => !l.startsWith('lantop_class_')).join('\n');
    assert.ok(problemsOf(dashboard, noClasses).some((p) => p.includes('lantop_class_bytes_total')));
  });
});
