// The emulated BusyBox ash of the OpenWrt persona against this machine's real BusyBox ash
// (`busybox sh -c`; skipped with one line when BusyBox is missing): the lines lantop's batched
// delivery sends (printf into a pipe, a script built in `_C` and `eval`ed, the `r$?` marker), the
// detection probes, and the builtins and expansions they rest on print the same stdout and stderr
// and end with the same status. Then what only an interactive ash does: PS2 for unfinished input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runAshLine } from './ash-run.js';
import { createRouterModel } from './model.js';
import { createOpenWrtSession, openWrtEnvironment, runOpenWrtShell } from './openwrt-fw4.js';

const hasBusybox = spawnSync('busybox', ['true'], { stdio: 'ignore' }).status === 0;
if (!hasBusybox) process.stderr.write('\n*** real BusyBox comparison SKIPPED: busybox not installed ***\n\n');

function emulated(line: string): { stdout: string; stderr: string; status: number } {
  const model = createRouterModel({ flavour: 'openwrt-fw4', traffic: false });
  const env = openWrtEnvironment(model, createOpenWrtSession());
  let stdout = '';
  let stderr = '';
  runAshLine(env, line, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { stdout, stderr, status: env.lastStatus };
}

function real(line: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('busybox', ['sh', '-c', line], { encoding: 'utf8', input: '', timeout: 10_000, env: { PATH: '/usr/bin:/bin', HOME: '/root' } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The shell's own name in its errors: "sh" for `busybox sh -c`, "-ash" for OpenWrt's login shell. */
const sameName = (text: string) => text.replace(/^(?:-ash|sh): /gm, 'ash: ');

// One line of lantop's restore-style delivery, with `cat` where the router would run nft -f -.
const DELIVERY = `{ printf '%s\\n' 'table inet lantop {' '  chain c { type filter hook forward priority filter + 10; policy accept; }' '}'||echo w >&2;}|cat 2>&1;echo r$?`;
const CHUNKED = `_C='printf %s\\\\n '\\''add element inet lantop dl4 { 198.51.100.100 }'\\'' '\\''x y'\\''';_C=$_C';printf "%s|%s\\n" a "b c" d';{ eval "$_C"||echo w >&2;}|cat 2>&1;echo r$?;_C=`;

const LINES = [
  DELIVERY,
  CHUNKED,
  `_L=1&&_C='printf %s_ "$_L"'&&{ eval "$_C";};_L=;_C=`,
  // The nftables backend's delivery: an assignment from $(…) keeps its newlines (no field splitting).
  `_C='printf '\''%s\n'\'' '\''add table inet t'\'' '\''add set inet t s { type ipv4_addr; }'\''';_S=$(eval "$_C")&&{ printf '%s\n' "$_S"|cat;echo "r$?";}||echo w;_S=;_C=`,
  'printf "%s|%s\\n" a b c',
  "printf '%5s|%-4d|%x|%X|%o|%c|%%|%b\\n' ab 7 255 255 8 xyz 'q\\tw'",
  'printf "%d\\n" abc; echo "s=$?"',
  "printf '\\101\\x41\\n'; printf %s; printf '%s\\n'",
  'echo -n a; echo -e "b\\tc"; echo "d\\ne"; echo -ne "x\\cy"; echo',
  'x="a  b"; for w in $x; do echo "[$w]"; done; echo "$x" ${#x} "${#x}"',
  'y=$(printf "one\\n\\n"); echo "[$y]"; echo `echo back`',
  'false || echo or; true && echo and; false && echo no; ! true; echo "not=$?"',
  'if [ -n "" ]; then echo a; elif [ 2 -gt 1 ]; then echo b; else echo c; fi',
  '[ abc = abc ] && [ 1 -le 2 ] && [ ! -z x ] && echo tests; [ 1 -eq x ]; echo "bad=$?"; test; echo "empty=$?"',
  'echo out; echo err >&2; { echo grouped; echo gerr >&2; } 2>&1; echo hidden >/dev/null; echo nothing 2>/dev/null >&2',
  'i=; while [ "$i" != "xxx" ]; do i="${i}x"; echo "$i"; done; until [ -z "$i" ]; do i=; done; echo done',
  '( z=inner; echo "$z" ); echo "[$z]"; unset HOME; echo "[$HOME]"; export A=1; echo "$A"',
  'echo "quotes: \'s\' \\"d\\" \\$ \\\\" \'$HOME\' a\\ b',
  'nosuchprogram; echo "s=$?"',
  'echo a; }',
  'fi',
];

for (const line of LINES) {
  test(`ash: ${line.slice(0, 70)}`, { skip: !hasBusybox }, () => {
    const want = real(line);
    const got = emulated(line);
    assert.equal(got.stdout, want.stdout, 'stdout');
    assert.equal(sameName(got.stderr), sameName(want.stderr), 'stderr');
    assert.equal(got.status, want.status, 'status');
  });
}

test('the delivery line hands nft exactly the script printf wrote', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', traffic: false });
  const session = createOpenWrtSession();
  const line = DELIVERY.replace('|cat 2>&1', '|nft -f - 2>&1');
  assert.equal(runOpenWrtShell(model, session, line).output, 'r0\n');
  assert.match(runOpenWrtShell(model, session, 'nft list table inet lantop').output, /^table inet lantop \{\n\tchain c \{\n\t\ttype filter hook forward priority filter \+ 10; policy accept;\n\t\}\n\}\n$/);
  const refused = runOpenWrtShell(model, session, "printf 'add rule inet lantop c foo\\n' | nft -f - 2>&1;echo r$?").output;
  assert.equal(refused, '/dev/stdin:1:27-27: Error: syntax error, unexpected newline\nadd rule inet lantop c foo\n                          ^\nr1\n');
});

test('an unfinished line waits for the next one (ash PS2), and ^C-free input completes it', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', traffic: false });
  const session = createOpenWrtSession();
  assert.deepEqual(runOpenWrtShell(model, session, 'echo "a'), { output: '', next: 'shell' });
  assert.notEqual(session.pending, null);
  assert.equal(runOpenWrtShell(model, session, 'b"; { echo c;').output, '');
  assert.equal(runOpenWrtShell(model, session, '}').output, 'a\nb\nc\n');
  assert.equal(session.pending, null);
  assert.equal(runOpenWrtShell(model, session, 'exit').next, 'logout');
});
