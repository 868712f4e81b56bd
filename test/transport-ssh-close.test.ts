// SshSession.close() toward a router that vanished (issue 13): once a lab namespace was deleted, the
// FIN of `end()` was never acknowledged, the socket sat in FIN-WAIT-1 and `npm test` hung for over
// five minutes. Here a real dropbear runs in a network namespace this test creates; after login,
// every packet to and from it is dropped, and close() must still finish within its grace period.
// Needs root (namespaces, iptables, dropbear's bind mounts); skipped otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { dropbearUnavailableReason } from './fakes/dropbear.js';

const hasTools = spawnSync('ip', ['-V']).status === 0 && spawnSync('iptables', ['--version']).status === 0;
const skip = dropbearUnavailableReason() ?? (hasTools ? false : 'needs ip and iptables');

const sshModule = new URL('../src/transport/ssh.ts', import.meta.url).pathname;
const dropbearModule = new URL('./fakes/dropbear.ts', import.meta.url).pathname;

// Runs inside the namespace: for both channel kinds, log in, make the router vanish, time close().
const CHILD = `
import { execFileSync } from 'node:child_process';
const { connectSsh } = await import(${JSON.stringify(sshModule)});
const { startDropbear } = await import(${JSON.stringify(dropbearModule)});
const dropbear = await startDropbear();
try {
  for (const preferExec of [false, true]) {
    const session = await connectSsh({ host: '127.0.0.1', port: dropbear.port, user: dropbear.user, password: dropbear.password, preferExec, connectTimeoutMs: 4000, commandTimeoutMs: 3000 });
    if ((await session.exec('echo up')) !== 'up') throw new Error('no answer before the drop');
    const rules = ['--dport', '--sport'].map((flag) => ['INPUT', '-p', 'tcp', flag, String(dropbear.port), '-j', 'DROP']);
    for (const rule of rules) execFileSync('iptables', ['-A', ...rule]);
    const startedMs = Date.now();
    await session.close();
    process.stdout.write(JSON.stringify({ preferExec, closeMs: Date.now() - startedMs }) + '\\n');
    for (const rule of rules) execFileSync('iptables', ['-D', ...rule]);
  }
} finally {
  await dropbear.stop();
}
// dropbear's side of the dropped connections is not ours to wait for.
process.exit(0);
`;

test('SshSession.close() ends within its grace period when the router stopped answering', { skip, timeout: 60_000 }, async () => {
  const namespace = `lantop-sshclose-${process.pid}`;
  assert.equal(spawnSync('ip', ['netns', 'add', namespace]).status, 0, 'ip netns add');
  try {
    assert.equal(spawnSync('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']).status, 0);
    const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Without the fix close() never returns: the child is killed here and the test says so.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (status) => resolve(status)));
    clearTimeout(timer);
    child.stdout.destroy();
    child.stderr.destroy();
    const results = stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as { preferExec: boolean; closeMs: number });
    assert.equal(code, 0, `the child did not finish (close() hung?)\nstdout: ${stdout}\nstderr: ${stderr}`);
    assert.deepEqual(results.map((r) => r.preferExec), [false, true]);
    for (const result of results) assert.ok(result.closeMs < 3000, `close() took ${result.closeMs} ms (preferExec ${result.preferExec})`);
  } finally {
    // Anything the child left in the namespace (it should leave nothing) goes with it.
    for (const pid of spawnSync('ip', ['netns', 'pids', namespace]).stdout.toString().split('\n')) {
      if (/^\d+$/.test(pid)) process.kill(Number(pid), 'SIGKILL');
    }
    spawnSync('ip', ['netns', 'del', namespace]);
  }
});
