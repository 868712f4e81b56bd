import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketStarts, resolutionFor } from './chart-resolution.js';

const H = 3_600_000;

test('resolution: minutes up to 6 hours, hours up to 8 days, days beyond', () => {
  assert.equal(resolutionFor(0, 6 * H), 'minute');
  assert.equal(resolutionFor(0, 6 * H + 1), 'hour');
  assert.equal(resolutionFor(0, 24 * H), 'hour');
  assert.equal(resolutionFor(0, 7 * 24 * H), 'hour');
  assert.equal(resolutionFor(0, 31 * 24 * H), 'day');
  assert.equal(resolutionFor(10, 10), 'minute');
});

test('bucket starts: aligned, stop at now, never empty once the period began', () => {
  const day0 = Date.UTC(2026, 11, 3);
  assert.deepEqual(bucketStarts(day0, day0 + 24 * H, day0 + 2.5 * H, 'hour'), [day0, day0 + H, day0 + 2 * H]);
  assert.equal(bucketStarts(day0, day0 + 24 * H, day0 + 48 * H, 'hour').length, 24);
  assert.deepEqual(bucketStarts(day0 + 90_000, day0 + 6 * H, day0 + 90_000, 'minute'), [day0 + 60_000]);
});
