// The read-only access token of `lantop serve` (issue 17, docs/web.md): serve.json in lantop's
// configuration directory, beside the profiles (mode 0600). One token for the whole household, not
// per profile: it guards the live page's data, /api and (off loopback) /metrics, and changes nothing
// on any router. LANTOP_SERVE_TOKEN overrides the stored one (containers, secrets managers).
import { randomBytes } from 'node:crypto';
import type Conf from 'conf';
import { UsageError } from '../errors.js';
import { confClass } from './profiles.js';

export const SERVE_CONFIG_NAME = 'serve';
export const SERVE_TOKEN_ENV = 'LANTOP_SERVE_TOKEN';
/** 24 random bytes: 192 bits, 32 base64url characters. */
export const SERVE_TOKEN_BYTES = 24;
/** What a token may look like (generated ones, and sensible hand-made ones from the environment). */
export const SERVE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{22,256}$/;

interface ServeShape {
  token?: string;
}

export function generateServeToken(): string {
  return randomBytes(SERVE_TOKEN_BYTES).toString('base64url');
}

export class ServeAccessStore {
  private readonly conf: Conf<ServeShape>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const ConfStore = confClass();
    this.conf = new ConfStore<ServeShape>({
      projectName: 'lantop',
      projectSuffix: '',
      configName: SERVE_CONFIG_NAME,
      ...(env.LANTOP_CONFIG_DIR ? { cwd: env.LANTOP_CONFIG_DIR } : {}),
      configFileMode: 0o600,
      clearInvalidConfig: false,
      schema: { token: { type: 'string', pattern: SERVE_TOKEN_PATTERN.source } } as never,
    });
  }

  get path(): string {
    return this.conf.path;
  }

  /** The stored token, or null. */
  get token(): string | null {
    const token = this.conf.get('token');
    return typeof token === 'string' && SERVE_TOKEN_PATTERN.test(token) ? token : null;
  }

  /** The stored token, made (and saved) first when there is none or `rotate` asks for a new one. */
  ensure(options: { rotate?: boolean } = {}): { token: string; isNew: boolean } {
    const existing = this.token;
    if (existing !== null && options.rotate !== true) return { token: existing, isNew: false };
    const token = generateServeToken();
    this.conf.set('token', token);
    return { token, isNew: true };
  }
}

export type ServeTokenSource = 'env' | 'config';

/**
 * The token serve requires: LANTOP_SERVE_TOKEN when set (it must look like a token), else the one in
 * serve.json, else null (none configured). Reads the file only when the environment has none.
 */
export function resolveServeToken(env: NodeJS.ProcessEnv, open: () => Pick<ServeAccessStore, 'token'> = () => new ServeAccessStore(env)): { token: string; source: ServeTokenSource } | null {
  const fromEnv = env[SERVE_TOKEN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!SERVE_TOKEN_PATTERN.test(fromEnv)) throw new UsageError(`${SERVE_TOKEN_ENV} must be 22–256 characters of A–Z, a–z, 0–9, '-' and '_'.`, 'Make one with `lantop serve token`, or unset it.');
    return { token: fromEnv, source: 'env' };
  }
  const stored = open().token;
  return stored === null ? null : { token: stored, source: 'config' };
}
