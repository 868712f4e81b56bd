import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { shareBar, sparkline } from './sparkline.js';

const width = (s: string) => [...s].length;

test('sparkline: zero is blank, any traffic is at least the lowest bar, the max is a full block', () => {
  assert.equal(sparkline([0, 1, 50, 100], 4, 100), ' ▁▄█');
  assert.equal(sparkline([0, 0, 0], 3), '   ');
  // Scale defaults to the samples' own maximum.
  assert.equal(sparkline([5, 10], 2), '▄█');
});

test('sparkline: fewer samples than columns are right-aligned, more are bucketed by their peak', () => {
  assert.equal(sparkline([8], 4, 8), '   █');
  // 8 samples into 4 columns: each glyph is the larger of a pair.
  assert.equal(sparkline([0, 8, 0, 0, 4, 0, 0, 1], 4, 8), '█ ▄▁');
});

test('sparkline: odd input never breaks the width', () => {
  assert.equal(sparkline([NaN, -5, Infinity, 3], 4, 3), '   █');
  assert.equal(sparkline([1, 2, 3], 0), '');
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: false })), fc.integer({ min: 0, max: 80 }), fc.option(fc.double()), (samples, w, max) => {
      assert.equal(width(sparkline(samples, w, max ?? undefined)), w);
    }),
  );
});

test('shareBar: eighth blocks, padded to width, clamped to 0..1', () => {
  assert.equal(shareBar(0, 4), '    ');
  assert.equal(shareBar(1, 4), '████');
  assert.equal(shareBar(0.5, 4), '██  ');
  assert.equal(shareBar(0.5 + 1 / 32, 4), '██▏ ');
  assert.equal(shareBar(0.5 + 3 / 32, 4), '██▍ ');
  assert.equal(shareBar(2, 3), '███');
  assert.equal(shareBar(-1, 3, '·'), '···');
  fc.assert(
    fc.property(fc.double(), fc.integer({ min: 0, max: 60 }), (share, w) => {
      assert.equal(width(shareBar(share, w)), w);
    }),
  );
});
