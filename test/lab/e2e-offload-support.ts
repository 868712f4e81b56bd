// What e2e-offload.test.ts checks lantop's JSON against, and the lab traffic it drives: the
// shapes of `top --json`, `usage --json` wan/offload, assertions on them, the steady download and
// ICMP streams, and a forward-hook counter per host (a scratch table, independent of lantop).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Lab } from './lab.js';
import { inNs } from './lab-forwarding.js';

export const WAN_IP = '203.0.113.1';
export const PORT = 5611;
export const CHUNK_BYTES = 20_000; // every 20 ms: ~1 MB/s
export const NOMINAL_BPS = CHUNK_BYTES * 50;
// h2's echo stream: 1428-byte IPv4 packets (under the links' 1500 MTU: no fragments, whose extra
// headers the host would count and the forward hook, after defragmentation, would not), 500 a second.
export const PING_DATA_BYTES = 1400;
export const PING_INTERVAL_S = 0.002;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the contract's JSON (what the lead's CLI promises) ------------------------------------------

export interface TopConnection {
  protocol: string; remote: string; remotePort: number | null; localAddress: string; localPort: number | null;
  downBytes: number | null; upBytes: number | null; downBps: number | null; upBps: number | null;
  state: string | null; isOffloaded: boolean | null; service: string | null; remoteName: string | null;
  ageMs: number | null; initiator: string | null;
}
export interface TopJson {
  device: { identity: string; name: string | null; addresses: string[] };
  atMs: number;
  accounting: 'on' | 'off' | 'unknown';
  source: string;
  enableAccountingCommand: string | null;
  connections: TopConnection[];
  notes: unknown[];
}
export const TOP_KEYS = ['device', 'atMs', 'accounting', 'source', 'enableAccountingCommand', 'connections', 'notes'];
export const CONNECTION_KEYS = ['protocol', 'remote', 'remotePort', 'localAddress', 'localPort', 'downBytes', 'upBytes', 'downBps', 'upBps', 'state', 'isOffloaded', 'service', 'remoteName', 'ageMs', 'initiator'];

export interface Shares { down: number | null; up: number | null }
export interface WanJson {
  interface: string; downBytes: number; upBytes: number; routerDownBytes: number; routerUpBytes: number;
  hostDownBytes: number; hostUpBytes: number; accountedShare: Shares; recentAccountedShare: Shares; sinceMs: number;
}
export const WAN_KEYS = ['interface', 'downBytes', 'upBytes', 'routerDownBytes', 'routerUpBytes', 'hostDownBytes', 'hostUpBytes', 'accountedShare', 'recentAccountedShare', 'sinceMs'];
export interface OffloadFinding { kind: string; name: string; state: string; isHardware: boolean | null; evidence: string | string[]; howToDisable: string | null }
export interface OffloadJson { isOn: boolean; warning: string | null; findings: OffloadFinding[] }
export const FINDING_KEYS = ['kind', 'name', 'state', 'isHardware', 'evidence', 'howToDisable'];
export interface UsageJson {
  hosts: Array<{ ip: string; downBytes: number; upBytes: number }>;
  wan: WanJson | null;
  offload: OffloadJson | null;
}

export function assertKeys(value: unknown, keys: readonly string[], where: string): void {
  assert.ok(value !== null && typeof value === 'object', `${where}: not an object: ${JSON.stringify(value)}`);
  const missing = keys.filter((k) => !(k in (value as Record<string, unknown>)));
  assert.deepEqual(missing, [], `${where}: keys missing from ${JSON.stringify(value)}`);
}

export function assertOffloadShape(offload: OffloadJson, where: string): void {
  assertKeys(offload, ['isOn', 'warning', 'findings'], where);
  assert.equal(typeof offload.isOn, 'boolean', `${where}.isOn`);
  assert.ok(Array.isArray(offload.findings), `${where}.findings`);
  for (const f of offload.findings) {
    assertKeys(f, FINDING_KEYS, `${where} finding`);
    // The contract does not fix evidence's type: lantop's JSON joins the lines (`a | b`).
    const evidence = f.evidence as unknown;
    assert.ok((typeof evidence === 'string' && evidence.length > 0) || (Array.isArray(evidence) && evidence.length > 0), `${where} finding evidence: ${JSON.stringify(f)}`);
  }
}

export function assertWanShape(wan: WanJson, where: string): void {
  assertKeys(wan, WAN_KEYS, where);
  assert.equal(wan.interface, 'ppp0', `${where}.interface`);
  for (const key of ['downBytes', 'upBytes', 'routerDownBytes', 'routerUpBytes', 'hostDownBytes', 'hostUpBytes', 'sinceMs'] as const) {
    assert.ok(Number.isFinite(wan[key]) && wan[key] >= 0, `${where}.${key} = ${wan[key]}`);
  }
  for (const share of [wan.accountedShare, wan.recentAccountedShare]) {
    assertKeys(share, ['down', 'up'], `${where} share`);
    for (const v of [share.down, share.up]) assert.ok(v === null || (v >= 0 && v <= 1.5), `${where}: share ${v} outside 0–1.5`);
  }
}

export const total = (c: TopConnection) => (c.downBytes ?? 0) + (c.upBytes ?? 0);

// --- traffic ---------------------------------------------------------------------------------------

/** The ISP's server: CHUNK_BYTES every 20 ms to each client (IPv4); prints "up" when listening. */
export const SERVER = `require('net').createServer((s)=>{const t=setInterval(()=>s.write(Buffer.alloc(${CHUNK_BYTES},97)),20);s.on('data',()=>{});s.on('error',()=>{});s.on('close',()=>clearInterval(t));}).listen(${PORT},'0.0.0.0',()=>console.log('up'));`;
/** h1's client: prints its local port, reads everything, sends 100 bytes every 200 ms, ends after ms. */
export const client = (localAddress: string, ms: number): string =>
  `const s=require('net').connect({port:${PORT},host:'${WAN_IP}',localAddress:'${localAddress}'},()=>console.log('port '+s.localPort));s.on('data',()=>{});s.on('error',()=>{});setInterval(()=>{if(s.writable)s.write(Buffer.alloc(100,98));},200);setTimeout(()=>{s.destroy();process.exit(0);},${ms});`;

export function firstLine(child: ChildProcess, what: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start`)), timeoutMs);
    child.stdout!.once('data', (b: Buffer) => { clearTimeout(timer); resolve(b.toString('utf8').trim()); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited ${code}`)); });
  });
}

export interface Traffic { children: ChildProcess[]; server: ChildProcess | null }

export async function startServer(lab: Lab, traffic: Traffic): Promise<void> {
  const server = inNs(lab.ispNs, SERVER);
  traffic.children.push(server);
  traffic.server = server;
  await firstLine(server, 'traffic server');
}

/** h1 downloads for `ms`; resolves with the connection's local port once it is up. */
export async function download(lab: Lab, traffic: Traffic, ms: number): Promise<number> {
  const child = inNs(lab.hosts[0]!.ns, client(lab.hosts[0]!.ip, ms));
  traffic.children.push(child);
  const line = await firstLine(child, 'h1 download');
  const m = /^port (\d+)$/.exec(line);
  assert.ok(m, `client said ${line}`);
  return Number(m[1]);
}

/** h2 pings the ISP's server (BusyBox ping, root: raw socket) for `seconds`. Its `PING …` line sits in
 * stdio's buffer (a pipe), so "running" is: not exited 300 ms on; the echo replies' arrival is what
 * the scenario checks (the oracle's h2 delta). */
export async function echoStream(lab: Lab, traffic: Traffic, seconds: number): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', lab.hosts[1]!.ns, 'busybox', 'ping', '-q', '-s', String(PING_DATA_BYTES), '-i', String(PING_INTERVAL_S), '-w', String(seconds), WAN_IP], { stdio: ['ignore', 'ignore', 'pipe'] });
  traffic.children.push(child);
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  await sleep(300);
  assert.equal(child.exitCode, null, `h2's busybox ping exited ${child.exitCode}: ${stderr}`);
}

/** A scratch table in the router: the bytes each LAN host got from the WAN in the forward hook (after
 * the firewall's filter; the hook lantop's per-device counters are in, iptables or nft alike). */
export const FORWARD_TABLE = 'lab_e2e_forward';
export function forwardCounters(hosts: readonly { name: string; ip: string }[]): string {
  return [
    `table inet ${FORWARD_TABLE} {`,
    ...hosts.map((h) => `  counter ${h.name} { }`),
    '  chain count {',
    '    type filter hook forward priority filter + 10; policy accept;',
    ...hosts.map((h) => `    iifname "ppp0" ip daddr ${h.ip} counter name "${h.name}"`),
    '  }',
    '}',
    '',
  ].join('\n');
}

export async function addForwardCounters(lab: Lab): Promise<void> {
  const added = await lab.exec(['nft', '-f', '-'], { input: forwardCounters(lab.hosts) });
  assert.equal(added.code, 0, `scratch forward counters: ${added.stderr}`);
}

/** Bytes per host name from the scratch table. */
export async function readForward(lab: Lab): Promise<Record<string, number>> {
  const r = await lab.exec(['nft', '-j', 'list', 'counters', 'table', 'inet', FORWARD_TABLE]);
  assert.equal(r.code, 0, `nft list counters: ${r.stderr}`);
  const json = JSON.parse(r.stdout) as { nftables: Array<{ counter?: { name: string; bytes: number } }> };
  return Object.fromEntries(json.nftables.flatMap((item) => (item.counter ? [[item.counter.name, item.counter.bytes]] : [])));
}

