// Saved router profiles in the `conf` store (0600, validated by a schema). Several routers:
// one profile each; `--profile NAME` picks one. Passwords are saved only when the user asks, and
// then obfuscated (base64), NOT encrypted — lantop says so whenever it saves one.
import type Conf from 'conf';
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';
import type { Profile } from './resolve.js';

// conf brings ajv, ~0.1 s to load (issue 21): loaded when a store is first opened, so commands that
// never read a profile (`lantop demo`) do not wait for it. require() of an ES module needs Node
// ≥ 20.19 / 22.12; older versions load it up front instead.
const require = createRequire(import.meta.url);
const eagerConf = process.features.require_module ? null : (await import('conf')).default;

export function confClass(): typeof Conf {
  return eagerConf ?? (require('conf') as { default: typeof Conf }).default;
}

interface StoreShape {
  profiles: Record<string, Profile & { isManaged?: boolean }>;
  /** What detection learned per router (see StoredDetection), keyed by routerKey(). */
  detected: Record<string, StoredDetection>;
}

/**
 * A router's detected profile, reused on the next start when the router still looks the same
 * from the outside (identity: a hash of banner, prompt and SSH host key). The firmware profile is
 * re-validated when read (router/firmware/stored-profile.ts), never trusted blindly.
 */
export interface StoredDetection {
  identity: string;
  firmware: unknown;
  savedAt: string;
}

const PROFILE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    host: { type: 'string', maxLength: 253 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    protocol: { enum: ['telnet', 'ssh', 'local'] },
    upstream: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,32}$' },
    user: { type: 'string', maxLength: 64 },
    wan: { type: 'string', pattern: '^[A-Za-z0-9_.:@-]{1,15}$' },
    firmware: { type: 'string', maxLength: 32 },
    backend: { enum: ['iptables', 'nftables'] },
    neverBlock: { type: 'string', maxLength: 2000 },
    denyFor: { type: 'string', pattern: '^([0-9]{1,6}[smhd])+$' },
    denyEndSessions: { enum: ['yes', 'no'] },
    savedPassword: { type: 'string' },
    hostKey: { type: 'string', maxLength: 200 },
    isManaged: { type: 'boolean' },
  },
} as const;

export const PROFILE_KEYS = ['host', 'port', 'protocol', 'user', 'wan', 'firmware', 'backend', 'neverBlock', 'upstream', 'denyFor', 'denyEndSessions'] as const;
export type ProfileKey = (typeof PROFILE_KEYS)[number];

const NAME = /^[A-Za-z0-9_-]{1,32}$/;

export class ProfileStore {
  private readonly conf: Conf<StoreShape>;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    const ConfStore = confClass();
    this.conf = new ConfStore<StoreShape>({
      projectName: 'lantop',
      projectSuffix: '',
      ...(env.LANTOP_CONFIG_DIR ? { cwd: env.LANTOP_CONFIG_DIR } : {}),
      configFileMode: 0o600,
      clearInvalidConfig: false,
      defaults: { profiles: {}, detected: {} },
      schema: {
        profiles: { type: 'object', additionalProperties: PROFILE_SCHEMA, propertyNames: { pattern: NAME.source } },
        detected: {
          type: 'object',
          additionalProperties: { type: 'object', required: ['identity', 'firmware'], properties: { identity: { type: 'string', maxLength: 128 }, firmware: { type: 'object' }, savedAt: { type: 'string' } } },
        },
      } as never,
    });
  }

  get path(): string {
    return this.conf.path;
  }

  get(name: string): (Profile & { isManaged?: boolean }) | undefined {
    return this.conf.get('profiles')[name];
  }

  list(): Record<string, Profile & { isManaged?: boolean }> {
    return this.conf.get('profiles');
  }

  update(name: string, change: Partial<Profile & { isManaged?: boolean }>): void {
    if (!NAME.test(name)) throw new UsageError(`Profile names are 1–32 letters, digits, '-' or '_' (got '${name.slice(0, 40)}').`);
    const profiles = { ...this.conf.get('profiles') };
    const next: Record<string, unknown> = { ...(profiles[name] ?? {}), ...change };
    for (const [key, value] of Object.entries(next)) if (value === undefined) delete next[key];
    profiles[name] = next as Profile;
    try {
      this.conf.set('profiles', profiles);
    } catch (error) {
      throw new UsageError(`Cannot save profile '${name}': ${(error as Error).message}`, 'Check the value (e.g. port 1–65535, protocol telnet|ssh|local).');
    }
  }

  /** The detection stored for a router (see routerKey), if any. */
  getDetected(key: string): StoredDetection | undefined {
    return (this.conf.get('detected') ?? {})[key];
  }

  setDetected(key: string, value: StoredDetection | undefined): void {
    const detected = { ...(this.conf.get('detected') ?? {}) };
    if (value === undefined) delete detected[key];
    else detected[key] = value;
    this.conf.set('detected', detected);
  }

  remove(name: string): boolean {
    const profiles = { ...this.conf.get('profiles') };
    if (!(name in profiles)) return false;
    delete profiles[name];
    this.conf.set('profiles', profiles);
    return true;
  }
}

/** Obfuscation only: anyone who can read the file can decode it. */
export function obfuscatePassword(password: string): string {
  return 'b64:' + Buffer.from(password, 'utf8').toString('base64');
}

export function revealPassword(saved: string): string | null {
  if (!saved.startsWith('b64:')) return null;
  return Buffer.from(saved.slice(4), 'base64').toString('utf8');
}
