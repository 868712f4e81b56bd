// What an entry point hands the app: parsed global flags, the environment and the three streams.
// cli.ts builds one per command; tests build their own.
import type { GlobalFlags } from '../config/resolve.js';

export interface CommandContext {
  flags: GlobalFlags;
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

export type Action = (ctx: CommandContext, options: Record<string, unknown>, args: string[]) => Promise<number | void>;

/** The streams a command writes to (a subset of CommandContext, so tests can pass plain streams). */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}
