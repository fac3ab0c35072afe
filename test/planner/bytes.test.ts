import t from 'tap';
import { formatBytes, groupDigits, humanBytes, parseByteSize } from '../../planner/bytes.js';

t.test('byte sizes as people write them', async (t) => {
  t.equal(parseByteSize('2MiB'), 2_097_152);
  t.equal(parseByteSize('100KiB'), 102_400);
  t.equal(parseByteSize('1.5MB'), 1_500_000);
  t.equal(parseByteSize('2097152'), 2_097_152);
  t.equal(parseByteSize('2 mib'), 2_097_152);
  t.equal(parseByteSize('1.5KiB'), 1536);
  t.equal(parseByteSize('0.3KB'), 300);
  t.equal(parseByteSize('1GiB'), 1024 ** 3);
  t.equal(parseByteSize('12B'), 12);
  t.throws(() => parseByteSize('12XB'), /unknown unit 'XB'/);
  t.throws(() => parseByteSize('1.5'), /whole number of bytes/);
  t.throws(() => parseByteSize('0.1KiB'), /whole number of bytes/);
  t.throws(() => parseByteSize('-1MB'), /not a byte size/);
  t.throws(() => parseByteSize(''), /not a byte size/);
  t.throws(() => parseByteSize('MiB'), /not a byte size/);
});

t.test('formatting', async (t) => {
  t.equal(groupDigits(2107392), '2,107,392');
  t.equal(groupDigits(999), '999');
  t.equal(humanBytes(2107392), '2.01 MiB');
  t.equal(humanBytes(1000), '1000 B');
  t.equal(formatBytes(2107392), '2,107,392 B (2.01 MiB)');
  t.equal(formatBytes(100), '100 B');
});
