// Preloaded into every test process by scripts/run-tests.mjs (`--import`): gives each test and hook
// that has no timeout of its own, and no enclosing describe() with one, the default timeout in
// LANTOP_TEST_TIMEOUT_MS, so a stuck test fails under its own name instead of the whole file
// being killed at its limit. Needed because Node 20 applies `--test-timeout` to a whole file under
// `--test` (and not at all without it): measured on v20.20, a 1500 ms test passes with
// `--test-timeout=1000`. Without the variable this module does nothing.
//
// How: the named exports of node:test (`import { test } from 'node:test'`, the only style used
// here) are the builtin's properties; replacing them and calling syncBuiltinESMExports() makes
// ESM imports see the wrappers. An explicit `timeout` (on the test or an enclosing suite, which
// Node lets subtests inherit) always wins; the suite's is tracked through AsyncLocalStorage.
//
// Node records where a test was declared (`test at file:line:col`, TAP `location`) from the frame
// that calls test(); from a plain wrapper every test would seem declared here. So the wrapper makes
// that call from a one-line vm.Script compiled under the caller's file name at the caller's raw
// (pre-source-map) line and column: Node sees the same location as without the wrapper.
// scripts/run-tests.test.ts checks that a reported location is the test file's own.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import vm from 'node:vm';

const defaultMs = Number(process.env['LANTOP_TEST_TIMEOUT_MS']);

if (Number.isFinite(defaultMs) && defaultMs > 0) {
  const require = createRequire(import.meta.url);
  const nodeTest = require('node:test');
  /** The timeout an enclosing describe() declared, while its body registers tests. */
  const suiteTimeout = new AsyncLocalStorage();

  const isOptions = (value) => typeof value === 'object' && value !== null;

  /** The raw call site of whoever called `wrapper`. */
  const callSiteOf = (wrapper) => {
    const { prepareStackTrace, stackTraceLimit } = Error;
    const holder = {};
    try {
      Error.stackTraceLimit = 1;
      Error.prepareStackTrace = (_, sites) => sites[0];
      Error.captureStackTrace(holder, wrapper);
      return holder.stack;
    } finally {
      Error.prepareStackTrace = prepareStackTrace;
      Error.stackTraceLimit = stackTraceLimit;
    }
  };

  const callers = new Map();
  // The callee is a plain identifier at column 0: V8 reports a call at its callee (`a.b()` at `b`).
  for (const name of ['__lantopTestFn', '__lantopTestArgs']) Object.defineProperty(globalThis, name, { value: null, writable: true, enumerable: false });
  /** `original(...args)`, called from code that sits exactly at `site`. */
  const callFrom = (site, original, args) => {
    const file = site?.getFileName?.();
    const line = site?.getLineNumber?.();
    const column = site?.getColumnNumber?.();
    if (!file || !line || !column) return original(...args);
    const key = `${file}:${line}:${column}`;
    let script = callers.get(key);
    if (script === undefined) {
      script = new vm.Script('__lantopTestFn(...__lantopTestArgs)', { filename: file, lineOffset: line - 1, columnOffset: column - 1 });
      callers.set(key, script);
    }
    globalThis.__lantopTestFn = original;
    globalThis.__lantopTestArgs = args;
    return script.runInThisContext();
  };

  /** test([name][, options][, fn]) and hook(fn[, options]): the args with a default timeout added. */
  const withTimeout = (args, optionsGoBeforeFn) => {
    if (suiteTimeout.getStore() !== undefined) return args;
    const at = args.findIndex(isOptions);
    if (at >= 0) return 'timeout' in args[at] ? args : args.with(at, { ...args[at], timeout: defaultMs });
    const fnAt = args.findIndex((value) => typeof value === 'function');
    const insertAt = optionsGoBeforeFn && fnAt >= 0 ? fnAt : args.length;
    return [...args.slice(0, insertAt), { timeout: defaultMs }, ...args.slice(insertAt)];
  };

  const wrapTest = (original) => {
    const wrapped = function (...args) {
      return callFrom(callSiteOf(wrapped), original, withTimeout(args, true));
    };
    for (const variant of ['skip', 'todo', 'only']) {
      if (typeof original[variant] === 'function') wrapped[variant] = variant === 'only' ? wrapTest(original.only) : original[variant];
    }
    return wrapped;
  };

  const wrapSuite = (original) => {
    const wrapped = function (...args) {
      const options = args.find(isOptions);
      const timeout = options?.timeout ?? suiteTimeout.getStore();
      const fnAt = args.findIndex((value) => typeof value === 'function');
      // No timeout here or above: tests inside get the default.
      if (fnAt < 0 || timeout === undefined) return callFrom(callSiteOf(wrapped), original, args);
      const body = args[fnAt];
      const inSuite = function (...bodyArgs) {
        return suiteTimeout.run(timeout, () => body.apply(this, bodyArgs));
      };
      return callFrom(callSiteOf(wrapped), original, args.with(fnAt, inSuite));
    };
    for (const variant of ['skip', 'todo', 'only']) {
      if (typeof original[variant] === 'function') wrapped[variant] = wrapSuite(original[variant]);
    }
    return wrapped;
  };

  const wrapHook = (original) => {
    const wrapped = function (...args) {
      return callFrom(callSiteOf(wrapped), original, withTimeout(args, false));
    };
    return wrapped;
  };

  for (const name of ['test', 'it']) if (typeof nodeTest[name] === 'function') nodeTest[name] = wrapTest(nodeTest[name]);
  for (const name of ['describe', 'suite']) if (typeof nodeTest[name] === 'function') nodeTest[name] = wrapSuite(nodeTest[name]);
  for (const name of ['before', 'after', 'beforeEach', 'afterEach']) if (typeof nodeTest[name] === 'function') nodeTest[name] = wrapHook(nodeTest[name]);
  syncBuiltinESMExports();
}
