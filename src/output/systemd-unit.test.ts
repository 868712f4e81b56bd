import { test } from 'node:test';
import assert from 'node:assert/strict';
import { environmentLine, quoteExecArg, quotePath, renderSystemdUnit, UnitValueError, type UnitSpec } from './systemd-unit.js';

const SPEC: UnitSpec = {
  description: 'lantop serve (home)',
  execStart: ['/usr/bin/node', '/usr/lib/node_modules/lantop/dist/cli.js', '--profile', 'home', 'serve', '--listen', '127.0.0.1:9464'],
  environment: { LANTOP_CONFIG_DIR: '/home/ann/.config/lantop', LANTOP_DB: '/home/ann/.local/share/lantop/history.sqlite', NO_COLOR: '1' },
  readWritePaths: ['/home/ann/.config/lantop', '/home/ann/.local/share/lantop'],
  user: 'ann',
  restartSec: 10,
};

test('a system unit: the command, restart on failure, the user, the environment and the hardening', () => {
  const unit = renderSystemdUnit(SPEC);
  const lines = unit.split('\n');
  assert.ok(lines.includes('[Unit]') && lines.includes('[Service]') && lines.includes('[Install]'));
  assert.ok(lines.includes('ExecStart=/usr/bin/node /usr/lib/node_modules/lantop/dist/cli.js --profile home serve --listen 127.0.0.1:9464'));
  for (const line of ['Restart=on-failure', 'RestartSec=10', 'User=ann', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=read-only', 'PrivateTmp=yes', 'WantedBy=multi-user.target', 'After=network-online.target', 'ExecReload=/bin/kill -HUP $MAINPID', 'CapabilityBoundingSet=']) {
    assert.ok(lines.includes(line), line);
  }
  assert.ok(lines.includes('ReadWritePaths=/home/ann/.config/lantop /home/ann/.local/share/lantop'));
  assert.ok(lines.includes('Environment="LANTOP_DB=/home/ann/.local/share/lantop/history.sqlite"'));
  assert.doesNotMatch(unit, /MemoryDenyWriteExecute/, 'V8 needs W+X memory');
  assert.doesNotMatch(unit, /^[^#].*password/im, 'no password setting');
  assert.ok(unit.endsWith('\n'));
});

test('a --user unit: no User=, no namespacing (a user manager may lack user namespaces), default.target', () => {
  const unit = renderSystemdUnit({ ...SPEC, user: null });
  assert.doesNotMatch(unit, /^User=/m);
  assert.doesNotMatch(unit, /^ProtectSystem=|^ReadWritePaths=|^After=network-online/m);
  assert.match(unit, /^NoNewPrivileges=yes$/m);
  assert.match(unit, /^WantedBy=default\.target$/m);
});

test('quoting per systemd.syntax: spaces, quotes, backslashes, specifiers and $ in ExecStart', () => {
  assert.equal(quoteExecArg('/opt/my apps/node'), '"/opt/my apps/node"');
  assert.equal(quoteExecArg('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(quoteExecArg('100%'), '"100%%"');
  assert.equal(quoteExecArg('$HOME'), '"$$HOME"');
  assert.equal(quoteExecArg(''), '""');
  assert.equal(quoteExecArg(';'), '";"', 'a lone ; would separate commands');
  assert.equal(quoteExecArg('--routers=a,b'), '--routers=a,b');
  assert.equal(quotePath('/home/ann/My Data/lantop'), '"/home/ann/My Data/lantop"');
  assert.equal(environmentLine('LANTOP_DB', '/home/ann/My Data/h 50%.sqlite'), 'Environment="LANTOP_DB=/home/ann/My Data/h 50%%.sqlite"');
  const unit = renderSystemdUnit({ ...SPEC, execStart: ['/opt/my apps/node', '/opt/my apps/lantop/dist/cli.js', 'serve'], readWritePaths: ['/home/ann/My Data'] });
  assert.match(unit, /^ExecStart="\/opt\/my apps\/node" "\/opt\/my apps\/lantop\/dist\/cli\.js" serve$/m);
  assert.match(unit, /^ReadWritePaths="\/home\/ann\/My Data"$/m);
});

test('newlines and control characters are refused everywhere, and so is a relative program', () => {
  assert.throws(() => quoteExecArg('a\nExecStartPre=/bin/rm'), UnitValueError);
  assert.throws(() => quotePath('/a\rb'), UnitValueError);
  assert.throws(() => quotePath('relative/dir'), UnitValueError);
  assert.throws(() => environmentLine('X', 'a\nb'), UnitValueError);
  assert.throws(() => environmentLine('BAD NAME', 'x'), UnitValueError);
  assert.throws(() => renderSystemdUnit({ ...SPEC, description: 'x\n[Service]' }), UnitValueError);
  assert.throws(() => renderSystemdUnit({ ...SPEC, execStart: ['node', 'cli.js'] }), UnitValueError);
  assert.throws(() => renderSystemdUnit({ ...SPEC, user: 'ann\nroot' }), UnitValueError);
  assert.throws(() => renderSystemdUnit({ ...SPEC, environment: { X: 'a\u0000' } }), UnitValueError);
});
