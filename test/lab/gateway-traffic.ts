// Bytes through the gateway's SSH tunnels and their ground truth: gateway-agent.mjs in the server's
// and the clients' namespaces (JSON lines both ways), and the oracle's table in each client
// (gateway-model.ts clientOracleRuleset) read per family and local port.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GW_ORACLE_TABLE, clientOracleRuleset, oracleSets, parseClientOracle, type AddressFamily, type PortCounts } from './gateway-model.js';
import { STEP_TIMEOUT_MS } from './lab-settings.js';
import { LabError, runOk } from './run-command.js';

const AGENT = join(dirname(fileURLToPath(import.meta.url)), 'gateway-agent.mjs');

interface AgentReply {
  id: number;
  ok?: boolean;
  port?: number;
  received?: number;
  error?: string;
}

class Agent {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (reply: AgentReply) => void>();
  private readonly early = new Map<number, AgentReply[]>();
  private stderrTail = '';
  private exited = false;

  constructor(readonly ns: string) {
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', ns, process.execPath, AGENT], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.unref();
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.child.stderr!.on('data', (chunk: Buffer) => { this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000); });
    this.child.on('exit', () => { this.exited = true; });
    this.child.on('error', () => { this.exited = true; });
    this.child.stdin!.on('error', () => { /* agent gone: the request times out with its stderr */ });
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private onLine(line: string): void {
    let reply: AgentReply;
    try { reply = JSON.parse(line) as AgentReply; } catch { return; }
    const waiter = this.waiting.get(reply.id);
    if (waiter) { this.waiting.delete(reply.id); waiter(reply); } else this.early.set(reply.id, [...(this.early.get(reply.id) ?? []), reply]);
  }

  send(message: Record<string, unknown>): void {
    if (this.exited) throw new LabError(`gateway agent in ${this.ns} is not running: ${this.stderrTail}`);
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  next(id: number, timeoutMs: number): Promise<AgentReply> {
    const queued = this.early.get(id)?.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new LabError(`gateway agent in ${this.ns}: no reply within ${timeoutMs} ms ${this.stderrTail}`));
      }, timeoutMs);
      this.waiting.set(id, (reply) => { clearTimeout(timer); resolve(reply); });
    });
  }

  kill(): void {
    this.child.stdin?.end();
    this.child.kill('SIGKILL');
  }
}

export interface TunnelRoute {
  /** The client's namespace. */
  clientNs: string;
  /** `-D`: the SOCKS port on the client's loopback; the agent asks it for server:port. */
  socksPort?: number;
  /** `-L`: the forwarded port on the client's loopback, and the server port it leads to. */
  localPort?: number;
  serverPort?: number;
}

/** One agent per namespace, started on first use: the server's listens, the clients' connect. */
export class GatewayAgents {
  private readonly agents = new Map<string, Agent>();
  private requestId = 0;

  constructor(private readonly serverNs: string, private readonly serverIp: string) {}

  private agent(ns: string): Agent {
    let agent = this.agents.get(ns);
    if (!agent) this.agents.set(ns, (agent = new Agent(ns)));
    return agent;
  }

  /** downBytes server → client and upBytes client → server over one TCP connection through the tunnel. */
  async push(route: TunnelRoute, amounts: { downBytes: number; upBytes: number; timeoutMs?: number }): Promise<{ downBytes: number; upBytes: number }> {
    const timeoutMs = amounts.timeoutMs ?? 60_000;
    const server = this.agent(this.serverNs);
    const client = this.agent(route.clientNs);
    const serveId = ++this.requestId;
    server.send({ id: serveId, op: 'serve', port: route.serverPort ?? 0, send: amounts.downBytes, expect: amounts.upBytes, timeoutMs });
    const listening = await server.next(serveId, STEP_TIMEOUT_MS);
    if (listening.port === undefined) throw new LabError(`gateway lab: server failed: ${listening.error ?? 'no port'}`);
    const connectId = ++this.requestId;
    const target = route.socksPort !== undefined
      ? { host: this.serverIp, port: listening.port, socks: { host: '127.0.0.1', port: route.socksPort } }
      : { host: '127.0.0.1', port: route.localPort };
    client.send({ id: connectId, op: 'connect', ...target, send: amounts.upBytes, expect: amounts.downBytes, timeoutMs });
    const [clientDone, serverDone] = await Promise.all([client.next(connectId, timeoutMs + 2_000), server.next(serveId, timeoutMs + 2_000)]);
    for (const [side, reply] of [['client', clientDone], ['server', serverDone]] as const) {
      if (!reply.ok) throw new LabError(`gateway lab: push ${side} failed: ${reply.error ?? 'unknown'}`);
    }
    return { downBytes: clientDone.received ?? 0, upBytes: serverDone.received ?? 0 };
  }

  killAll(): void {
    for (const agent of this.agents.values()) agent.kill();
    this.agents.clear();
  }
}

export async function installClientOracle(clientNs: string): Promise<void> {
  await runOk(['ip', 'netns', 'exec', clientNs, 'nft', '-f', '-'], { input: clientOracleRuleset(), timeoutMs: STEP_TIMEOUT_MS });
}

/** One client's oracle: counts per local port, for its IPv4 and its IPv6 connections to the gateway. */
export type ClientOracle = Record<AddressFamily, Map<number, PortCounts>>;

export async function readClientOracle(clientNs: string): Promise<ClientOracle> {
  const json = await runOk(['ip', 'netns', 'exec', clientNs, 'nft', '-j', 'list', 'table', 'inet', GW_ORACLE_TABLE], { timeoutMs: STEP_TIMEOUT_MS });
  return { 4: parseClientOracle(json, 4), 6: parseClientOracle(json, 6) };
}

/** Forgets a finished session's port, so that a later connection from the same port starts at zero. */
export async function forgetClientPort(clientNs: string, port: number, family: AddressFamily = 4): Promise<void> {
  const sets = oracleSets(family);
  for (const set of [sets.up, sets.down]) {
    await runOk(['ip', 'netns', 'exec', clientNs, 'nft', 'delete', 'element', 'inet', GW_ORACLE_TABLE, set, `{ ${port} }`], { timeoutMs: STEP_TIMEOUT_MS }).catch(() => undefined);
  }
}
