// Traffic through the lab and its ground truth: traffic-agent.mjs in a namespace (JSON lines both
// ways) moves exact byte counts through the router (IPv4 through its NAT, IPv6 routed), and the
// nftables oracle in each host counts what it really moved (lab-oracle.ts, README.md "The oracle").
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ISP_IP, ISP_IP6 } from './lab-model.js';
import { ORACLE_TABLE, hostOracleReset, hostOracleRuleset, parseHostOracle, type OracleCounts } from './lab-oracle.js';
import { AGENT_PATH, STEP_TIMEOUT_MS } from './lab-settings.js';
import { LabError, runOk, sleep } from './run-command.js';

interface AgentReply {
  id: number;
  ok?: boolean;
  port?: number;
  sent?: number;
  received?: number;
  error?: string;
}

class Agent {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, Array<(reply: AgentReply) => void>>();
  private readonly early = new Map<number, AgentReply[]>();
  private stderrTail = '';
  private exited = false;

  constructor(readonly ns: string) {
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', ns, process.execPath, AGENT_PATH], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.unref();
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.onLine(line));
    this.child.stderr!.on('data', (chunk: Buffer) => { this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000); });
    this.child.on('exit', () => { this.exited = true; });
    this.child.on('error', () => { this.exited = true; });
    this.child.stdin!.on('error', () => { /* agent gone; requests time out with its stderr */ });
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  private onLine(line: string): void {
    let reply: AgentReply;
    try {
      reply = JSON.parse(line) as AgentReply;
    } catch {
      return;
    }
    const waiter = this.waiting.get(reply.id)?.shift();
    if (waiter) waiter(reply);
    else this.early.set(reply.id, [...(this.early.get(reply.id) ?? []), reply]);
  }

  send(message: Record<string, unknown>): void {
    if (this.exited) throw new LabError(`traffic agent in ${this.ns} is not running: ${this.stderrTail}`);
    this.child.stdin!.write(JSON.stringify(message) + '\n');
  }

  next(id: number, timeoutMs: number): Promise<AgentReply> {
    const queued = this.early.get(id)?.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const list = this.waiting.get(id) ?? [];
        this.waiting.set(id, list.filter((w) => w !== done));
        reject(new LabError(`traffic agent in ${this.ns}: no reply within ${timeoutMs} ms ${this.stderrTail}`));
      }, timeoutMs);
      const done = (reply: AgentReply): void => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.waiting.set(id, [...(this.waiting.get(id) ?? []), done]);
    });
  }

  kill(): void {
    this.child.stdin?.end();
    this.child.kill('SIGKILL');
  }
}

/** One traffic agent per namespace, started on first use; the ISP's serves, the hosts' connect. */
export class TrafficAgents {
  private readonly agents = new Map<string, Agent>();
  private requestId = 0;

  constructor(private readonly ispNs: string) {}

  private agent(ns: string): Agent {
    let agent = this.agents.get(ns);
    if (!agent) {
      agent = new Agent(ns);
      this.agents.set(ns, agent);
    }
    return agent;
  }

  /**
   * The host downloads downBytes and uploads upBytes over one TCP connection to the ISP; over IPv6
   * when `source` (one of the host's IPv6 addresses, which the connection is bound to) is given.
   */
  async transfer(
    host: { name: string; ns: string },
    amounts: { downBytes: number; upBytes: number; timeoutMs?: number },
    source?: string,
  ): Promise<{ downBytes: number; upBytes: number }> {
    const timeoutMs = amounts.timeoutMs ?? 30_000;
    const server = this.agent(this.ispNs);
    const client = this.agent(host.ns);
    const serveId = ++this.requestId;
    const v6 = source !== undefined;
    server.send({ id: serveId, op: 'serve', send: amounts.downBytes, expect: amounts.upBytes, timeoutMs, ...(v6 ? { bind: '::' } : {}) });
    const listening = await server.next(serveId, STEP_TIMEOUT_MS);
    if (listening.port === undefined) throw new LabError(`lab: ISP server failed: ${listening.error ?? 'no port'}`);
    const connectId = ++this.requestId;
    client.send({
      id: connectId, op: 'connect', host: v6 ? ISP_IP6 : ISP_IP, port: listening.port, send: amounts.upBytes, expect: amounts.downBytes, timeoutMs,
      ...(v6 ? { localAddress: source } : {}),
    });
    const [clientDone, serverDone] = await Promise.all([client.next(connectId, timeoutMs + 2_000), server.next(serveId, timeoutMs + 2_000)]);
    for (const [side, reply] of [['client', clientDone], ['server', serverDone]] as const) {
      if (!reply.ok) throw new LabError(`lab: transfer ${host.name} ${side} failed: ${reply.error ?? 'unknown'}`);
    }
    return { downBytes: clientDone.received ?? 0, upBytes: serverDone.received ?? 0 };
  }

  killAll(): void {
    for (const agent of this.agents.values()) agent.kill();
    this.agents.clear();
  }
}

/** Puts the oracle's table into a host's namespace (lab-oracle.ts). */
export async function installOracle(hostNs: string): Promise<void> {
  await runOk(['ip', 'netns', 'exec', hostNs, 'nft', '-f', '-'], { input: hostOracleRuleset(), timeoutMs: STEP_TIMEOUT_MS });
}

/** One host's counts per address (IPv4 and IPv6) of what it moved to and from the WAN. */
export async function readHostOracle(hostNs: string, expected: readonly string[]): Promise<OracleCounts> {
  const json = await runOk(['ip', 'netns', 'exec', hostNs, 'nft', '-j', 'list', 'table', 'inet', ORACLE_TABLE], { timeoutMs: STEP_TIMEOUT_MS });
  return parseHostOracle(json, expected);
}

export async function resetHostOracle(hostNs: string): Promise<void> {
  await runOk(['ip', 'netns', 'exec', hostNs, 'nft', '-f', '-'], { input: hostOracleReset(), timeoutMs: STEP_TIMEOUT_MS });
}

/**
 * Reads until the counts stay the same for 200 ms (four readings 50 ms apart after the first), at
 * most 3 s: a delayed ACK (up to 40 ms) or a FIN still in flight on a loaded machine is counted
 * before the reading is taken as final. Two readings 50 ms apart were not enough once in CI.
 */
export async function settleOracle<T>(read: () => Promise<T>): Promise<T> {
  const stableReadings = 4;
  let last = JSON.stringify(await read());
  let same = 0;
  for (let i = 0; i < 60; i++) {
    await sleep(50);
    const now = await read();
    const text = JSON.stringify(now);
    same = text === last ? same + 1 : 0;
    if (same >= stableReadings) return now;
    last = text;
  }
  throw new LabError('lab: the oracle counters did not settle within 3 s');
}
