// test-file-timeout: 240
// End-to-end, issue 17: the REAL lantop (`node dist/cli.js`) against the lab router over SSH: the
// pictures tell the truth. After exact transfers (ground truth: the lab's oracle, counted in the
// hosts), the document inlined in `report --html` and the one `serve` gives at /api/report/document
// carry each host's bytes exactly, their series add up to the totals, and the live page's
// /api/usage agrees. Every child is killed and the lab stopped in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labSkipReason, startLab } from './lab.js';
import { CLI_PATH, Cli } from './lantop-cli.js';
import type { ReportDocument } from '../../src/domain/report-document.js';

const skip = labSkipReason();

function sum(values: ReadonlyArray<number | null>): number {
  return values.reduce<number>((a, v) => a + (v ?? 0), 0);
}

function assertDocument(doc: ReportDocument, truth: Map<string, { downBytes: number; upBytes: number }>, where: string): void {
  for (const [ip, t] of truth) {
    const d = doc.devices.find((x) => x.ip === ip);
    assert.ok(d, `${where}: ${ip} in the document: ${JSON.stringify(doc.devices.map((x) => x.ip))}`);
    assert.deepEqual([d.downBytes, d.upBytes], [t.downBytes, t.upBytes], `${where}: ${ip} bytes (lantop vs oracle)`);
    if (d.series) assert.deepEqual([sum(d.series.down), sum(d.series.up)], [t.downBytes, t.upBytes], `${where}: ${ip} series add up`);
  }
  assert.deepEqual([sum(doc.totalSeries.down), sum(doc.totalSeries.up)], [doc.totals.downBytes, doc.totals.upBytes], `${where}: total series add up`);
}

test('report --html and serve /api/report/document carry the oracle\'s bytes exactly', { skip, timeout: 200_000 }, async () => {
  assert.ok(existsSync(CLI_PATH), `${CLI_PATH} is missing: run \`npm run build\` first`);
  const lab = await startLab({ hosts: 2, password: 'e2e-pictures' });
  const c = new Cli(lab, 'ssh', 8_000);
  let serve: ReturnType<typeof spawn> | null = null;
  try {
    await c.ok(['setup', '--yes']);
    await c.usage();
    await lab.resetOracle();
    await lab.transfer('h1', { downBytes: 350_000, upBytes: 30_000 });
    await lab.transfer('h2', { downBytes: 40_000, upBytes: 120_000 });
    const oracle = await lab.settle();
    await c.usage();
    const truth = new Map(lab.hosts.map((h) => [h.ip, oracle[h.ip] ?? { downBytes: 0, upBytes: 0 }]));
    assert.ok((truth.get(lab.hosts[0]!.ip)?.downBytes ?? 0) >= 350_000 && (truth.get(lab.hosts[1]!.ip)?.upBytes ?? 0) >= 120_000, `the oracle saw the transfers: ${JSON.stringify([...truth])}`);

    const file = join(c.dir, 'report.html');
    await c.ok(['report', '--period', 'all', '--html', file]);
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /https?:\/\//, 'no URL in the report');
    const json = /<script type="application\/json" id="lantop-report-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
    assert.ok(json !== undefined, 'the report inlines its data');
    assertDocument(JSON.parse(json) as ReportDocument, truth, 'report --html');

    const child = spawn(process.execPath, c.argv(['serve', '--listen', '127.0.0.1:0', '--interval', '1000']), { env: c.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    serve = child;
    let stderr = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 30_000);
      child.stderr!.on('data', (b: Buffer) => {
        stderr += b.toString('utf8');
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${stderr}`)));
    });
    const get = async (path: string): Promise<unknown> => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(r.status, 200, `${path}: ${r.status} ${await r.clone().text()}`);
      return r.json();
    };
    assertDocument((await get('/api/report/document?period=all')) as ReportDocument, truth, 'serve /api/report/document');
    // The live table's source: once serve has polled, its totals hold at least the recorded bytes.
    type Usage = { hosts: Array<{ ip: string; downBytes: number }> };
    let usage = null as Usage | null;
    for (let i = 0; i < 20 && usage === null; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/api/usage`, { signal: AbortSignal.timeout(10_000) });
      if (r.status === 200) usage = (await r.json()) as Usage;
      else await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(usage, '/api/usage answered after serve polled');
    for (const h of lab.hosts) assert.ok(usage.hosts.some((x) => x.ip === h.ip), `/api/usage lists ${h.ip}`);
    const page = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(page.status, 200);
    assert.doesNotMatch(await page.text(), /https?:\/\/(?!127\.0\.0\.1)/, 'the page names no outside URL');
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- lab ---\n${lab.diagnostics()}`;
    throw error;
  } finally {
    serve?.kill('SIGKILL');
    await lab.stop();
    c.cleanup();
  }
});
