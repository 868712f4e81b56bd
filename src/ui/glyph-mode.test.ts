import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glyphModeFor } from './glyph-mode.js';

test('glyph mode: UTF-8 locales draw braille; C/POSIX/non-UTF-8 locales and the Linux console or dumb terminals get ASCII', () => {
  assert.equal(glyphModeFor({ LANG: 'en_US.UTF-8', TERM: 'xterm-256color' }), 'braille');
  assert.equal(glyphModeFor({ LC_ALL: 'de_DE.utf8' }), 'braille');
  assert.equal(glyphModeFor({}), 'braille');
  assert.equal(glyphModeFor({ LANG: 'C' }), 'ascii');
  assert.equal(glyphModeFor({ LANG: 'en_US.UTF-8', LC_ALL: 'POSIX' }), 'ascii', 'LC_ALL wins');
  assert.equal(glyphModeFor({ LC_CTYPE: 'en_US.ISO-8859-1', LANG: 'en_US.UTF-8' }), 'ascii', 'LC_CTYPE before LANG');
  assert.equal(glyphModeFor({ LANG: 'en_US.UTF-8', TERM: 'linux' }), 'ascii');
  assert.equal(glyphModeFor({ LANG: 'en_US.UTF-8', TERM: 'dumb' }), 'ascii');
  assert.equal(glyphModeFor({ LANG: 'C', LANTOP_GLYPHS: 'blocks' }), 'blocks', 'the override wins');
});
