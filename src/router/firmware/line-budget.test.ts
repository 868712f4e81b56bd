import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { maxLineBytesForShell, DEFAULT_MAX_LINE_BYTES } from './line-budget.js';

describe('maxLineBytesForShell', () => {
  test('dash and bash get long lines; BusyBox, an unknown shell or no answer keep the safe default', () => {
    assert.equal(maxLineBytesForShell('/usr/bin/dash'), 3000);
    assert.equal(maxLineBytesForShell('/bin/bash\n'), 3000);
    assert.equal(maxLineBytesForShell('/bin/busybox'), DEFAULT_MAX_LINE_BYTES);
    assert.equal(maxLineBytesForShell('sh: readlink: not found'), DEFAULT_MAX_LINE_BYTES);
    assert.equal(maxLineBytesForShell(null), DEFAULT_MAX_LINE_BYTES);
    assert.equal(maxLineBytesForShell('/bin/busybox', 'exec'), 3000);
  });
});
