// `lantop --routers a,b` / `--all` (issue 20): the words after `lantop` and the profiles they name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { appRouterFlags, appRouterNames } from './multi-app.js';

const profiles = (names: string[]) => ({ profiles: { list: () => Object.fromEntries(names.map((n) => [n, { host: '198.51.100.1' }])), get: (n: string) => (names.includes(n) ? { host: '198.51.100.1' } : undefined) } }) as unknown as Parameters<typeof appRouterNames>[0];

test('appRouterFlags: --routers LIST, --routers=LIST, --all; anything else is a usage error', () => {
  assert.deepEqual(appRouterFlags([]), {});
  assert.deepEqual(appRouterFlags(['--routers', 'a,b']), { routers: 'a,b' });
  assert.deepEqual(appRouterFlags(['--routers=a,b']), { routers: 'a,b' });
  assert.deepEqual(appRouterFlags(['--all']), { all: true });
  assert.throws(() => appRouterFlags(['frobnicate']), (e) => e instanceof UsageError && e.message === "unknown command 'frobnicate'.");
  assert.throws(() => appRouterFlags(['--bogus']), (e) => e instanceof UsageError && /unknown option '--bogus'/.test(e.message));
  assert.throws(() => appRouterFlags(['--routers']), (e) => e instanceof UsageError && /argument missing/.test(e.message));
  assert.throws(() => appRouterFlags(['--all', 'extra']), UsageError);
});

test('appRouterNames: saved profiles only, named once; --all is every saved one; none given: the one-router app', () => {
  assert.equal(appRouterNames(profiles(['a']), {}), null);
  assert.deepEqual(appRouterNames(profiles(['a', 'b']), { routers: 'a, b' }), ['a', 'b']);
  assert.deepEqual(appRouterNames(profiles(['home', 'office']), { all: true }), ['home', 'office']);
  assert.throws(() => appRouterNames(profiles(['a']), { routers: 'a,x' }), (e) => e instanceof UsageError && e.message === "--routers: no saved profile 'x'." && /config set host/.test(e.nextStep ?? ''));
  assert.throws(() => appRouterNames(profiles([]), { all: true }), (e) => e instanceof UsageError && /no saved profile/.test(e.message));
  assert.throws(() => appRouterNames(profiles(['a']), { routers: 'a,a' }), UsageError);
  assert.throws(() => appRouterNames(profiles(['a']), { routers: 'a', all: true }), UsageError);
  assert.throws(() => appRouterNames(profiles(['a']), { routers: ' , ' }), UsageError);
});
