import { NotImplementedError } from '../errors.js';
import type { CommandDeps } from './commands.js';

export async function runServe(_deps: CommandDeps & { env: NodeJS.ProcessEnv }, _options: { listen: string }): Promise<number> {
  throw new NotImplementedError('serve');
}
