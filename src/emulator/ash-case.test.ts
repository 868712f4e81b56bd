// `case WORD in PATTERN) LIST ;; … esac` in the emulated BusyBox ash: the constructs and their
// syntax errors against this machine's real BusyBox ash (`busybox sh -c`; skipped with one line
// when BusyBox is missing), glob patterns as a property against real ash, PS2 for an unfinished
// case, and lantop's drill-down command (fixtures/conntrack/lantop-lab/lantop-command.sh): in a
// shell whose files and programs are the lab's captures it prints byte for byte what real
// BusyBox ash printed there, and on the emulated openwrt-fw4 router it frames the router's own
// connection lines the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { globMatch, utf8Bytes } from './ash-glob.js';
import { runAshLine, type AshEnvironment, type Program } from './ash-run.js';
import { runGrep } from './busybox-grep.js';
import { createRouterModel } from './model.js';
import { advanceModel } from './model-simulation.js';
import { createOpenWrtSession, openWrtEnvironment, readOpenWrtFile, runOpenWrtShell } from './openwrt-fw4.js';

const hasBusybox = spawnSync('busybox', ['true'], { stdio: 'ignore' }).status === 0;
if (!hasBusybox) process.stderr.write('\n*** real BusyBox comparison SKIPPED: busybox not installed ***\n\n');

const LAB = new URL('../../fixtures/conntrack/lantop-lab/', import.meta.url);
const lab = (name: string): string => readFileSync(new URL(name, LAB), 'utf8');
const LANTOP_COMMAND = lab('lantop-command.sh').replace(/\n$/, '');

interface Answer {
  stdout: string;
  stderr: string;
  status: number;
}

function run(env: AshEnvironment, line: string): Answer {
  let stdout = '';
  let stderr = '';
  runAshLine(env, line, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { stdout, stderr, status: env.lastStatus };
}

function emulated(line: string): Answer {
  const model = createRouterModel({ flavour: 'openwrt-fw4', traffic: false });
  return run(openWrtEnvironment(model, createOpenWrtSession()), line);
}

function real(line: string): Answer {
  const r = spawnSync('busybox', ['sh', '-c', line], { encoding: 'utf8', input: '', timeout: 10_000, env: { PATH: '/usr/bin:/bin', HOME: '/root' } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

const sameName = (text: string) => text.replace(/^(?:-ash|sh): /gm, 'ash: ');

function assertSameAsReal(line: string): void {
  const want = real(line);
  const got = emulated(line);
  assert.equal(got.stdout, want.stdout, 'stdout');
  assert.equal(sameName(got.stderr), sameName(want.stderr), 'stderr');
  assert.equal(got.status, want.status, 'status');
}

const LINES = [
  'case abc in a*) echo A;; *) echo B;; esac',
  'case abc in x) echo A;; esac; echo "none=$?"',
  'false; case x in y) echo A;; esac; echo "nomatch=$?"',
  'false; case x in x) ;; esac; echo "empty=$?"',
  'case x in x) false;; esac; echo "body=$?"',
  'false; case 1 in $?) echo "status seen before the case";; esac',
  'case x in (x) echo paren;; esac; case x in (esac) echo esac-pattern;; esac',
  'case x in y|x) echo or;; esac; case x in y | x ) echo spaced;; esac',
  'case x in x) echo "no last ;;"; esac; case x in x) echo tight;;esac',
  'case x in x) echo first;; x) echo second;; esac',
  'case x in esac; echo "no branches=$?"',
  'v="a  b"; case $v in "a  b") echo "not split";; esac',
  'case "*" in "*") echo literal;; esac; case a in "*") echo no;; *) echo yes;; esac',
  "case a in \\*) echo no;; *) echo escaped;; esac; case 'a*' in a'*') echo quoted-part;; esac",
  'p="*"; case abc in $p) echo unquoted-var;; esac; case abc in "$p") echo no;; *) echo quoted-var;; esac',
  'p="\\*"; case a in $p) echo no;; *) echo backslash-in-var;; esac; case "*" in $p) echo matches-star;; esac',
  'case b in [abc]) echo set;; esac; case d in [!abc]) echo negated;; esac; case d in [^abc]) echo caret;; esac',
  'case - in [a-]) echo dash;; esac; case ] in []]) echo bracket;; esac; case a in [b-a]) echo no;; *) echo reversed;; esac',
  'case a in [) echo no;; *) echo unclosed;; esac; case [ in [) echo open-bracket;; esac',
  'case x in ["x"]) echo quoted-in-set;; esac; case "!" in [\\!]) echo bang;; esac; case b in ["!"a]) echo no;; *) echo quoted-bang;; esac',
  'case x in [[:alpha:]]) echo class;; esac; case 5 in [[:alpha:]]) echo no;; [[:digit:]]) echo digit;; esac',
  'case ab in ?b) echo q;; esac; case a.b in *.*) echo dot;; esac; case "" in "") echo empty;; esac; case "" in *) echo star;; esac',
  'case é in ?) echo one;; ??) echo "two bytes";; esac',
  'case $(echo x) in $(echo x)) echo substituted;; esac; case a in a) ;; $(echo never >&2)) ;; esac',
  'case x in $(false)) ;; esac; echo "after subst=$?"',
  'echo 1;case x in x)echo 2;;esac;echo 3',
  '(case x in x)echo subshell;;esac); { case y in y) echo group;; esac; }',
  'case x in x) echo hidden;; esac >/dev/null; echo after; case x in x) echo err >&2;; esac 2>&1',
  'case x in x) echo piped;; esac | cat; case x in x) echo and;; esac && echo then',
  'case x in x) case y in y) echo nested;; esac;; esac',
  'for i in a b c; do case $i in a) echo A;; b|c) echo "[$i]";; esac; done',
  'if case x in x) true;; esac; then echo cond; fi',
  'case x in x) (echo sub);; esac; echo case esac in',
  's=nf_conntrack; case $s in *_*) echo proc;; c*) echo tool;; esac; s=conntrack; case $s in *_*) echo proc;; c*) echo tool;; esac',
  // Syntax errors (not at the end of the line: there the interactive shell asks for more).
  'case x in ) echo a;; esac',
  'case x y in x) echo a;; esac',
  'esac',
  'case x in x) echo a;;; esac',
  'x=1 case y in y) echo $x;; esac',
  'case esac in esac) echo e;; esac',
  'case x in x) echo a ;; ; esac',
  'case x in x y) echo a;; esac',
  'case x in x|) echo a;; esac',
  'case x in x) echo a;; esac esac',
  'case x in x) echo a;; esac)',
  'case x in x) echo a)',
  'case x in x) echo a; fi',
  'case ; in',
  'echo a;; echo b',
];

for (const line of LINES) {
  test(`ash case: ${line.slice(0, 80)}`, { skip: !hasBusybox }, () => assertSameAsReal(line));
}

test('case on several lines and lantop\'s drill-down command itself match real ash', { skip: !hasBusybox }, () => {
  assertSameAsReal('case x in\nx) echo nl;;\nesac');
  assertSameAsReal('case x\nin\n(x) echo a\n;;\nesac');
  // On this machine the command reads the real /proc/net/nf_conntrack (or none at all): whatever
  // real ash makes of it, the marker line is the same (the emulator's file is its own).
  const want = real(LANTOP_COMMAND).stdout.split('\n')[0];
  assert.match(want ?? '', /^@@lantop-ct:(nf_conntrack|ip_conntrack|conntrack|none)$/);
});

// Patterns built from glob pieces and subjects from the characters they test, one batch of case
// statements per run through real ash and the emulator.
test('glob patterns match as real ash matches them', { skip: !hasBusybox }, () => {
  const piece = fc.constantFrom('a', 'b', '-', '!', ']', '*', '?', '[ab]', '[!a]', '[^b]', '[a-b]', '[]a]', '[', '"*"', "'?'", '\\*', '\\[', '[[:alpha:]]', '"[a]"', '$p');
  const pattern = fc.array(fc.array(piece, { minLength: 1, maxLength: 5 }).map((p) => p.join('')), { minLength: 1, maxLength: 3 }).map((alts) => alts.join('|'));
  const subject = fc.array(fc.constantFrom('a', 'b', '-', '!', '*', '?', '[', ']', 'é'), { maxLength: 5 }).map((s) => s.join(''));
  const batch = fc.array(fc.tuple(subject, pattern), { minLength: 1, maxLength: 30 });
  fc.assert(
    fc.property(batch, fc.constantFrom('*', '?', '[ab]', '\\?'), (cases, p) => {
      const line = `p='${p}';${cases.map(([s, pat]) => `case '${s}' in ${pat}) echo 1;; *) echo 0;; esac`).join(';')}`;
      const got = emulated(line);
      const want = real(line);
      assert.equal(got.stdout, want.stdout, line);
      assert.equal(got.stderr, want.stderr, line);
    }),
    { numRuns: 40, seed: 19 },
  );
});

test('globMatch: the pieces on their own', () => {
  const m = (pattern: string, subject: string) => globMatch(utf8Bytes(pattern), utf8Bytes(subject));
  assert.equal(m('*_*', 'nf_conntrack'), true);
  assert.equal(m('*_*', 'conntrack'), false);
  assert.equal(m('c*', 'conntrack'), true);
  assert.equal(m('c*', 'none'), false);
  assert.equal(m('a*b*c', 'axxbyyc'), true);
  assert.equal(m('a*b*c', 'axxbyy'), false);
  assert.equal(m('\\*', '*'), true);
  assert.equal(m('\\*', 'a'), false);
  assert.equal(m('[!a-c]', 'd'), true);
  assert.equal(m('[!a-c]', 'b'), false);
  assert.equal(m('[', '['), true);
  assert.equal(m('??', 'é'), true);
  assert.equal(m('', ''), true);
  assert.equal(m('', 'a'), false);
});

test('an unfinished case waits for more lines (PS2), then runs', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', traffic: false });
  const session = createOpenWrtSession();
  for (const part of ['case b in', 'a) echo A;;', 'b) echo B']) assert.deepEqual(runOpenWrtShell(model, session, part), { output: '', next: 'shell' });
  assert.notEqual(session.pending, null);
  assert.equal(runOpenWrtShell(model, session, 'esac').output, 'B\n');
  assert.equal(session.pending, null);
  assert.equal(runOpenWrtShell(model, session, 'case x in x) echo a;; esac; echo "$?"').output, 'a\n0\n');
});

/** A shell whose /proc and programs are what the lab router had (SOURCE.md there). */
function labEnvironment(marker: 'nf_conntrack' | 'conntrack' | 'none', acct: 'on' | 'off'): AshEnvironment {
  const files = new Map<string, string>(marker === 'nf_conntrack' ? [['/proc/net/nf_conntrack', lab(`nf_conntrack-acct-${acct}.txt`)]] : []);
  // `conntrack -L -f FAMILY` as it came through `2>&1|`: the summary (stderr, unbuffered) before
  // the entries (stdout, flushed at exit), one family per run; the capture holds both runs.
  const listing = lab(`conntrack-L-acct-${acct}.txt`);
  const split = listing.indexOf('conntrack v', 1);
  const conntrack: Program = (args) => ({ stdout: args.includes('ipv6') ? listing.slice(split) : listing.slice(0, split), stderr: '', status: 0 });
  const grep: Program = (args, stdin) => runGrep(args, stdin, (path) => files.get(path) ?? null);
  return {
    shellName: 'sh',
    vars: new Map(),
    lastStatus: 0,
    pid: 1,
    program: (name) => (name === 'grep' ? grep : name === 'conntrack' && marker === 'conntrack' ? conntrack : null),
    fileKind: (path) => (files.has(path) ? 'file' : null),
    readFile: (path) => files.get(path) ?? null,
    writeFile: () => false,
  };
}

for (const marker of ['nf_conntrack', 'conntrack', 'none'] as const) {
  for (const acct of ['on', 'off'] as const) {
    const fixture = `lantop-command${marker === 'nf_conntrack' ? '' : `-${marker}`}-acct-${acct}.txt`;
    test(`lantop's drill-down command on the lab's ${marker} (acct ${acct}) prints ${fixture}`, () => {
      const got = run(labEnvironment(marker, acct), LANTOP_COMMAND);
      assert.equal(got.stderr, '');
      assert.equal(got.stdout, lab(fixture));
    });
  }
}

test("lantop's drill-down command on the emulated openwrt-fw4 router frames its connection lines", () => {
  const model = createRouterModel({
    flavour: 'openwrt-fw4',
    hosts: [
      { hostname: 'lab-laptop', kind: 'laptop', ip: '198.51.100.10' },
      { hostname: 'other-phone', kind: 'phone', ip: '198.51.100.11' },
    ],
  });
  advanceModel(model, model.nowMs + 120_000);
  const table = readOpenWrtFile(model, '/proc/net/nf_conntrack') ?? '';
  const mine = table.split('\n').filter((l) => l.includes('src=198.51.100.10 ') || l.includes('src=2001:0db8:0001:0000:0000:0000:0000:0010 '));
  assert.ok(mine.length > 0, 'the host has connections');
  assert.ok(table.split('\n').some((l) => l !== '' && !mine.includes(l)), 'and other lines exist, which the command leaves out');
  const session = createOpenWrtSession();
  const { output, next } = runOpenWrtShell(model, session, LANTOP_COMMAND);
  assert.equal(next, 'shell');
  assert.equal(output, `@@lantop-ct:nf_conntrack\n${mine.map((l) => `${l}\n`).join('')}@@lantop-ct:end\n`);
  assert.equal(session.lastStatus, 0);
  // The same shape as real ash's answer in the lab: marker, `ipv4|ipv6  N proto  N …` lines, end.
  const shape = /^@@lantop-ct:nf_conntrack\n(?:ipv[46] +\d+ [a-z0-9]+ +\d+ [^\n]*src=[^\n]*\n)+@@lantop-ct:end\n$/;
  assert.match(lab('lantop-command-acct-on.txt'), shape);
  assert.match(output, shape);
});
