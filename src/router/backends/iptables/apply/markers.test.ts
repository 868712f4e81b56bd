import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMarker } from './markers.js';
import { NONCE, mark } from '../../../../../test/helpers/apply-plans.js';

describe('readMarker', () => {
  test('finds our status, not its echo, not another nonce', () => {
    assert.equal(readMarker(`iptables-restore: line 3 failed\n${mark('r1')}`, NONCE, 'r'), '1');
    assert.equal(readMarker(`${mark('w')}\n${mark('r0')}`, NONCE, 'w'), '');
    assert.equal(readMarker(`echo "__LT""ST_${NONCE}_r$?__"`, NONCE, 'r'), null);
    assert.equal(readMarker('__LTST_ffffffffffff_r0__', NONCE, 'r'), null);
  });
});
