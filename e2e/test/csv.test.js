// The console's CSV cells, as a spreadsheet will read them (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvCell } from '../../src/main/resources/console/js/csv.js';

test('values a spreadsheet would run as formulas stay text', () => {
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), '"\'=HYPERLINK(""http://x"",""y"")"');
  assert.equal(csvCell('+1+2'), "'+1+2");
  assert.equal(csvCell('-2+3'), "'-2+3");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('\t=1'), "'\t=1");
  assert.equal(csvCell('\r=1'), '"\'\r=1"');
});

test('numbers, objects and plain text are written as they are, quoted where RFC 4180 says', () => {
  assert.equal(csvCell(-5), '-5');
  assert.equal(csvCell(22.5), '22.5');
  assert.equal(csvCell({ a: 1, b: '=x' }), '"{""a"":1,""b"":""=x""}"');
  assert.equal(csvCell('on'), 'on');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
});
