import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultHistoryPath } from './history-paths.js';

test('default path: XDG_DATA_HOME when absolute, else ~/.local/share', () => {
  assert.equal(defaultHistoryPath({ XDG_DATA_HOME: '/data' }, '/home/u'), '/data/lantop/history.sqlite');
  assert.equal(defaultHistoryPath({}, '/home/u'), '/home/u/.local/share/lantop/history.sqlite');
  assert.equal(defaultHistoryPath({ XDG_DATA_HOME: 'relative' }, '/home/u'), '/home/u/.local/share/lantop/history.sqlite');
});
