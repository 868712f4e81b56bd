// The layering of docs/codebase.md, checked (issue 14): no import cycle anywhere in src/ (type-only
// imports included: a cycle of types is still two modules that cannot change alone), every import
// allowed by its layer's rule, the socket and database drivers only where the guide says, no
// iptables vocabulary in src/domain and src/ui, and no source file over 400 lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'node_modules' && name !== 'dist' && !name.startsWith('.')) walk(path, out);
    } else if (/\.(ts|tsx|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm;

/** Every module specifier a file imports (static, re-export, side-effect and dynamic). */
export function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const m of text.matchAll(IMPORT)) specifiers.push((m[1] ?? m[2] ?? m[3])!);
  return specifiers;
}

/** The src-relative path an import resolves to, or null for packages and node: builtins. */
function resolveLocal(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = resolve(dirname(from), specifier).replace(/\.js$/, '');
  for (const ext of ['.ts', '.tsx', '/index.ts']) {
    try {
      if (statSync(target + ext).isFile()) return relative(SRC, target + ext);
    } catch {
      // try the next extension
    }
  }
  return relative(SRC, target);
}

const files = walk(SRC).filter((f) => !/\.test\.tsx?$/.test(f));
const graph = new Map<string, string[]>();
const packages = new Map<string, string[]>();
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const key = relative(SRC, file);
  const locals: string[] = [];
  const external: string[] = [];
  for (const specifier of importsOf(text)) {
    const local = resolveLocal(file, specifier);
    if (local === null) external.push(specifier);
    else locals.push(local);
  }
  graph.set(key, locals);
  packages.set(key, external);
}

/** The layer of a src-relative path: its first folder, or the file itself at the top. */
function layerOf(path: string): string {
  const [first, second] = path.split('/');
  if (second === undefined) return first!.replace(/\.tsx?$/, '');
  if (first === 'router' && (second === 'parsers' || second === 'firmware' || second === 'backends')) return `router/${second}`;
  return first!;
}

// Who may import whom (docs/codebase.md, "Layers"). Pure leaves first.
const SHARED = ['errors', 'sanitize'];
const ALLOWED: Record<string, string[]> = {
  errors: [],
  sanitize: [],
  domain: ['sanitize'],
  output: ['domain', ...SHARED],
  // Settings name the transport's defaults (timeouts, protocols).
  config: ['transport', 'domain', ...SHARED],
  transport: ['domain', ...SHARED],
  store: ['domain', ...SHARED],
  'router/parsers': ['domain', ...SHARED],
  'router/firmware': ['router/parsers', 'transport', 'domain', ...SHARED],
  'router/backends': ['router/parsers', 'router/firmware', 'transport', 'domain', ...SHARED],
  router: ['router/parsers', 'router/firmware', 'router/backends', 'transport', 'domain', ...SHARED],
  emulator: ['router/parsers', 'transport', 'domain', ...SHARED],
  ui: ['output', 'domain', ...SHARED],
  // Alert channels: webhook (fetch), email (nodemailer), command (child_process); the dispatcher.
  notify: ['domain', ...SHARED],
  app: ['ui', 'notify', 'router', 'router/parsers', 'router/firmware', 'router/backends', 'transport', 'store', 'config', 'output', 'domain', 'emulator', ...SHARED],
  cli: ['app', 'config', 'production-env', ...SHARED],
  index: ['router', 'router/parsers', 'router/firmware', 'router/backends', 'output', 'domain', ...SHARED],
  'production-env': [],
};
/** Single files a layer may use from a layer it may not otherwise import (the seams). */
const SEAMS: Record<string, string[]> = {
  // The screens know the app only through its controller interface.
  ui: ['app/types.ts'],
  // Parsers build records from the validated tokens (canonical MACs, interface names).
  'router/parsers': ['router/tokens.ts'],
  // Backends build commands from the validated tokens and word router refusals like the loaders do.
  'router/backends': ['router/tokens.ts', 'router/router-answer.ts'],
};

/** Every strongly connected component of more than one module (or a module importing itself): Tarjan. */
export function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  // Tarjan's strongly connected components.
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return cycles;
}

test('no import cycle in src/ (type-only imports included)', () => {
  const cycles = cyclesOf(graph);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.map((c) => `  ${c.join(' ⇄ ')}`).join('\n')}`);
});

test('the cycle finder finds cycles (so the test above can fail)', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']], ['e', ['e']]]);
  assert.deepEqual(cyclesOf(g), [['a', 'b', 'c'], ['e']]);
  assert.deepEqual(cyclesOf(new Map([['a', ['b']], ['b', []]])), []);
});

/** The imports of a graph that its layers' rules do not allow, in words. */
export function brokenImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const broken: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    if (allowed === undefined) {
      broken.push(`${file}: layer '${from}' has no rule in this test (add it here and to docs/codebase.md)`);
      continue;
    }
    for (const target of imports) {
      const to = layerOf(target);
      if (to === from || allowed.includes(to) || (SEAMS[from] ?? []).includes(target)) continue;
      if (to === 'cli') broken.push(`${file} → ${target}: nothing imports the entry point`);
      else broken.push(`${file} → ${target}: '${from}' may not import '${to}'`);
    }
  }
  return broken;
}

test('every import in src/ follows the layer rules of docs/codebase.md', () => {
  assert.deepEqual(brokenImports(graph), []);
});

test('the layer check rejects what the guide forbids (so the test above can fail)', () => {
  const g = new Map([
    ['domain/poller.ts', ['store/history-store.ts', 'domain/clock.ts']],
    ['ui/app.tsx', ['app/types.ts', 'app/controller.ts']],
    ['router/parsers/arp-table.ts', ['router/tokens.ts', 'router/router-client.ts']],
    ['app/actions.ts', ['cli.ts']],
  ]);
  assert.deepEqual(brokenImports(g), [
    "domain/poller.ts → store/history-store.ts: 'domain' may not import 'store'",
    "ui/app.tsx → app/controller.ts: 'ui' may not import 'app'",
    "router/parsers/arp-table.ts → router/router-client.ts: 'router/parsers' may not import 'router'",
    'app/actions.ts → cli.ts: nothing imports the entry point',
  ]);
});

test('sockets, SSH, telnet, SMTP, MQTT and the database driver are imported only by transport, store, notify, serve, the MQTT bridge and the emulator', () => {
  const DRIVERS = /^(?:node:)?(?:net|tls|http|https|dgram)$|^ssh2$|^telnet-client$|^better-sqlite3$|^nodemailer$|^mqtt$/;
  const mayUse = (file: string) => /^(transport|store|notify|emulator)\//.test(file) || file === 'app/serve.ts' || file === 'app/mqtt-bridge.ts';
  const broken: string[] = [];
  for (const [file, external] of packages) {
    for (const specifier of external) if (DRIVERS.test(specifier) && !mayUse(file)) broken.push(`${file} imports ${specifier}`);
  }
  assert.deepEqual(broken, []);
});

test('src/domain and src/ui speak of counters and accounting rules, never of iptables (tests included)', () => {
  const WORDS = /\b(?:ip6?tables|nftables|nft|chains?|hasJump|jump (?:to|from))\b/i;
  const NAMES = /\bTRAFFIC\b|\bFORWARD\b/;
  const found: string[] = [];
  for (const file of [...walk(join(SRC, 'domain')), ...walk(join(SRC, 'ui'))]) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const m = WORDS.exec(line) ?? NAMES.exec(line);
      if (m) found.push(`${relative(ROOT, file)}:${i + 1}: ${m[0]}`);
    });
  }
  assert.deepEqual(found, []);
});

test('no source file outside fixtures/ is over 400 lines', () => {
  const LIMIT = 400;
  const big: string[] = [];
  for (const dir of ['src', 'test', 'bench', 'scripts']) {
    for (const file of walk(join(ROOT, dir))) {
      const lines = readFileSync(file, 'utf8').split('\n').length - 1;
      if (lines > LIMIT) big.push(`${relative(ROOT, file)}: ${lines} lines`);
    }
  }
  assert.deepEqual(big, []);
});

test('the import scanner sees every form of import', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b.js';",
    "export { c } from './c.js';",
    "export * from './d.js';",
    "import './e.js';",
    "const f = await import('./f.js');",
    'import {\n  g,\n  h,\n} from "./g.js";',
  ].join('\n');
  assert.deepEqual(importsOf(text), ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', './g.js']);
});
