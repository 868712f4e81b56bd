// The systemd unit `lantop service install` writes (issue 22, docs/service.md), as text: pure, so
// every value's quoting is tested without systemd. Quoting follows systemd.syntax(7) and
// systemd.service(5): a word is double-quoted when it is not plain; inside quotes `\` and `"` are
// escaped; `%` (specifiers, in every setting) is doubled, and `$` (variable expansion, in
// ExecStart= only) too. A newline or another control character in a value is refused: in a unit
// file it would start a setting of its own.

export interface UnitSpec {
  description: string;
  /** The whole command: an absolute program path first, then its arguments. */
  execStart: readonly string[];
  /** Non-secret settings only (the unit file is world-readable). */
  environment: Readonly<Record<string, string>>;
  /** Directories the service writes to (ProtectSystem=strict leaves the rest read-only). */
  readWritePaths: readonly string[];
  /** System units: the account it runs as. Null: the user manager's own user (--user). */
  user: string | null;
  restartSec: number;
}

/** A value that would break the unit file's lines. */
export class UnitValueError extends Error {}

const PLAIN_WORD = /^[A-Za-z0-9_./:,=@+-]+$/;

function checkValue(value: string, what: string): void {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new UnitValueError(`${what} contains a newline or a control character: ${JSON.stringify(value.slice(0, 80))}`);
}

function quoteIn(value: string, isExec: boolean): string {
  let out = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%');
  if (isExec) out = out.replace(/\$/g, '$$$$');
  return out;
}

/** One argument of ExecStart=, quoted when it is not plain. */
export function quoteExecArg(value: string): string {
  checkValue(value, 'a command argument');
  if (value === '' || value === ';') return `"${quoteIn(value, true)}"`;
  return PLAIN_WORD.test(value) ? value : `"${quoteIn(value, true)}"`;
}

/** A path in a space-separated list (ReadWritePaths=): quoted when it is not plain. */
export function quotePath(value: string): string {
  checkValue(value, 'a path');
  if (!value.startsWith('/')) throw new UnitValueError(`not an absolute path: ${JSON.stringify(value.slice(0, 80))}`);
  return PLAIN_WORD.test(value) ? value : `"${quoteIn(value, false)}"`;
}

/** `Environment="NAME=value"` (always quoted: values may hold spaces). */
export function environmentLine(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UnitValueError(`not an environment variable name: ${JSON.stringify(name.slice(0, 40))}`);
  checkValue(value, `the value of ${name}`);
  return `Environment="${name}=${quoteIn(value, false)}"`;
}

/** Free text (Description=): specifiers doubled; no quoting (the line's rest is the value). */
function text(value: string, what: string): string {
  checkValue(value, what);
  return value.replace(/%/g, '%%');
}

export function renderSystemdUnit(spec: UnitSpec): string {
  const [program] = spec.execStart;
  if (program === undefined || !program.startsWith('/')) throw new UnitValueError('ExecStart= needs an absolute program path first');
  if (!Number.isInteger(spec.restartSec) || spec.restartSec < 1) throw new UnitValueError('RestartSec= must be a whole number of seconds ≥ 1');
  const isSystem = spec.user !== null;
  const lines = [
    '# Written by `lantop service install` (docs/service.md). No password in here: the service',
    '# reads the saved profile or the password file named below. `lantop service uninstall` removes it.',
    '[Unit]',
    `Description=${text(spec.description, 'the description')}`,
    // The user manager cannot order itself after system targets; a system unit waits for the network.
    ...(isSystem ? ['Wants=network-online.target', 'After=network-online.target'] : []),
    // A router that stays down must not end in "start request repeated too quickly": keep retrying.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${spec.execStart.map(quoteExecArg).join(' ')}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    'Restart=on-failure',
    `RestartSec=${spec.restartSec}`,
    ...(isSystem ? [`User=${userName(spec.user!)}`] : []),
    ...Object.entries(spec.environment).map(([name, value]) => environmentLine(name, value)),
    'NoNewPrivileges=yes',
    // Namespacing options need a system manager (or user namespaces a user manager may not have):
    // a --user unit that cannot start is worse than one with fewer walls.
    ...(isSystem
      ? [
          'ProtectSystem=strict',
          'ProtectHome=read-only',
          ...(spec.readWritePaths.length > 0 ? [`ReadWritePaths=${spec.readWritePaths.map(quotePath).join(' ')}`] : []),
          'PrivateTmp=yes',
          'PrivateDevices=yes',
          'ProtectKernelTunables=yes',
          'ProtectKernelModules=yes',
          'ProtectControlGroups=yes',
          'RestrictSUIDSGID=yes',
          'RestrictRealtime=yes',
          'LockPersonality=yes',
          'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
          'CapabilityBoundingSet=',
          // No MemoryDenyWriteExecute=: V8's JIT needs writable, executable memory.
        ]
      : []),
    '',
    '[Install]',
    `WantedBy=${isSystem ? 'multi-user.target' : 'default.target'}`,
    '',
  ];
  return lines.join('\n');
}

function userName(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/.test(name)) throw new UnitValueError(`not a user name systemd takes: ${JSON.stringify(name.slice(0, 40))}`);
  return name;
}
