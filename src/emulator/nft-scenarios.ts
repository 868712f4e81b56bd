// The nft scenarios of testdata/nft-scenarios.txt, for the tests that hold the emulated nft to the
// real one: reading the file, a fresh emulated OpenWrt router to run them on (nft 1.0.6, the
// version the captures come from, with this machine's kernel's element timeouts), one step through
// its shell with stdout and stderr apart, and the masking of what ticks between two runs.

import { readFileSync, readdirSync } from 'node:fs';
import { runAshLine } from './ash-run.js';
import { createRouterModel, type RouterModel } from './model.js';
import { createNftState } from './nft-state.js';
import { createOpenWrtSession, openWrtEnvironment, type OpenWrtSession } from './openwrt-fw4.js';

export const TESTDATA = new URL('./testdata/', import.meta.url);
/** Where the scenario lines find the scripts of testdata/nft/ (capture-nft.sh copies them there). */
export const SCRIPT_DIR = '/tmp/lantop-nft-scenarios';

export interface Scenario {
  name: string;
  lines: string[];
}

export interface StepResult {
  stdout: string;
  stderr: string;
  status: number;
}

export function readScenarios(): Scenario[] {
  const scenarios: Scenario[] = [];
  for (const line of readFileSync(new URL('nft-scenarios.txt', TESTDATA), 'utf8').split('\n')) {
    if (line.startsWith('### ')) scenarios.push({ name: line.slice(4), lines: [] });
    else if (line !== '' && !line.startsWith('#') && scenarios.length > 0) scenarios[scenarios.length - 1]?.lines.push(line);
  }
  return scenarios;
}

export function scriptFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const dir = new URL('nft/', TESTDATA);
  for (const name of readdirSync(dir)) files.set(`${SCRIPT_DIR}/${name}`, readFileSync(new URL(name, dir), 'utf8'));
  return files;
}

/** An emulated OpenWrt router with an empty ruleset and the scenario scripts in /tmp. */
export function scenarioRouter(): { model: RouterModel; session: OpenWrtSession } {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 1, traffic: false, churn: false });
  model.nft = createNftState({ version: '1.0.6', dumpsDefaultElementTimeout: false });
  for (const [path, text] of scriptFiles()) model.files.set(path, text);
  return { model, session: createOpenWrtSession() };
}

export function runStep(model: RouterModel, session: OpenWrtSession, line: string): StepResult {
  let stdout = '';
  let stderr = '';
  const env = openWrtEnvironment(model, session);
  runAshLine(env, line, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  session.lastStatus = env.lastStatus;
  return { stdout, stderr, status: env.lastStatus };
}

/**
 * What differs between two runs of the same step: the time left on elements (`expires`, which
 * the kernel counts in jiffies from the moment of the add), and the shell's name in its own errors.
 */
export function maskTicking(text: string): string {
  return text.replace(/expires [0-9dhms]+/g, 'expires …').replace(/"expires": \d+/g, '"expires": …').replace(/^(?:-ash|sh): /gm, 'ash: ');
}
