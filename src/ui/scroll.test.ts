import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampScrollTop, describeScroll, scrollTopAfter } from './scroll.js';

test('scrolling stays within the list and pages by a viewport less one row', () => {
  assert.equal(scrollTopAfter(0, 'up', 300, 20), 0);
  assert.equal(scrollTopAfter(0, 'down', 300, 20), 1);
  assert.equal(scrollTopAfter(0, 'pageDown', 300, 20), 19);
  assert.equal(scrollTopAfter(19, 'pageUp', 300, 20), 0);
  assert.equal(scrollTopAfter(0, 'end', 300, 20), 280);
  assert.equal(scrollTopAfter(280, 'down', 300, 20), 280);
  assert.equal(scrollTopAfter(150, 'home', 300, 20), 0);
  // Everything fits: nothing to scroll.
  assert.equal(scrollTopAfter(0, 'end', 5, 20), 0);
  // A stored offset beyond a shrunken list is clamped (hosts left, terminal grew).
  assert.equal(clampScrollTop(500, 30, 20), 10);
});

test('describeScroll names the visible rows only when some are hidden', () => {
  assert.equal(describeScroll(0, 10, 20), '');
  assert.equal(describeScroll(19, 300, 20), 'rows 20–39 of 300');
});
