// Forwarded traffic that a block must stop, for the blocking lab tests (block.test.ts,
// quota-e2e.test.ts): a TCP server in the ISP namespace that streams to every client, a client
// stream per LAN host that also uploads (its byte count printed every 100 ms), a one-shot probe
// "does a new connection get through", and the router's firewall in a form comparable over time.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Lab, LabHost } from './lab.js';

const WAN_IP = '203.0.113.1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ForwardingScripts {
  /** The ISP's server: `chunkBytes` every 20 ms to each client; prints "up" when listening. */
  server: string;
  /** A LAN host's client: uploads `upChunkBytes` every 20 ms, prints the bytes received so far. */
  stream: string;
  /** Exits 0 when a new connection to the server gets data within 1.5 s, 1 otherwise. */
  probe: string;
}

export function forwardingScripts(port: number, options: { chunkBytes: number; upChunkBytes: number }): ForwardingScripts {
  return {
    server: `require('net').createServer((s)=>{const t=setInterval(()=>s.write(Buffer.alloc(${options.chunkBytes},97)),20);s.on('data',()=>{});s.on('error',()=>{});s.on('close',()=>clearInterval(t));}).listen(${port},'0.0.0.0',()=>console.log('up'));`,
    stream: `let n=0;const s=require('net').connect(${port},'${WAN_IP}');s.on('data',(b)=>{n+=b.length;});s.on('error',()=>{});setInterval(()=>{if(s.writable)s.write(Buffer.alloc(${options.upChunkBytes},98));},20);setInterval(()=>console.log(n),100);`,
    probe: `const s=require('net').connect(${port},'${WAN_IP}');const t=setTimeout(()=>process.exit(1),1500);s.on('data',()=>{clearTimeout(t);process.exit(0);});s.on('error',()=>process.exit(1));`,
  };
}

/** A client stream's bytes received, as it prints them. */
export class Stream {
  received = 0;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (b: Buffer) => {
      const last = b.toString('utf8').trim().split('\n').pop();
      if (last !== undefined && /^\d+$/.test(last)) this.received = Number(last);
    });
  }
  /** Bytes received over the next `ms`. */
  async growth(ms: number): Promise<number> {
    const from = this.received;
    await sleep(ms);
    return this.received - from;
  }
}

/** Node running `script` in a namespace (the caller kills it). */
export function inNs(ns: string, script: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Whether a new connection from the host gets through the router now. */
export async function reaches(lab: Lab, host: LabHost, scripts: ForwardingScripts): Promise<boolean> {
  return (await lab.hostExec(host, [process.execPath, '-e', scripts.probe], { timeoutMs: 5000 })).code === 0;
}

/**
 * The router's firewall, comparable over time: nft element timers (`expires …`) blanked; an empty
 * ip6tables filter table (policies ACCEPT, no rule) is no table — reading one with `ip6tables -S`
 * instantiates it in iptables-legacy, and neither filters anything.
 */
export async function firewall(lab: Lab, isNft: boolean): Promise<string> {
  if (isNft) return (await lab.nftRuleset()).replace(/ expires [0-9dhms]+/g, ' expires …');
  const v6 = await lab.ip6tablesSave();
  const isEmpty6 = v6.trim() === '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT';
  return `${await lab.iptablesSave()}\n--- ip6tables ---\n${isEmpty6 ? '' : v6}`;
}
