/**
 * The incremental SHA-256 (streamed runs hash the input rows as they are made) equals
 * node:crypto's for every length around the 64-byte block and the 56-byte padding limit,
 * fed whole or in uneven pieces.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { Sha256 } from '../../src/preprocess/sha256.js';
import { makeRng } from '../../planner/rng.js';

t.test('equal to node:crypto for lengths 0..300 and pieces of any size', async (t) => {
  const rng = makeRng(3);
  let checked = 0;
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
    const want = createHash('sha256').update(data).digest('hex');
    if (new Sha256().update(data).hex() !== want) t.fail(`length ${n}, whole`);
    const h = new Sha256();
    for (let i = 0; i < n;) {
      const k = 1 + Math.floor(rng.next() * 70);
      h.update(data.subarray(i, i + k));
      i += k;
    }
    if (h.hex() !== want) t.fail(`length ${n}, in pieces`);
    checked++;
  }
  t.equal(checked, 301);
  t.equal(
    new Sha256().update(new TextEncoder().encode('abc')).hex(),
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});
