// The Chromium harness itself: what the static server answers (MIME types, the
// cross-origin isolation headers, in-memory files, refusals), when a missing browser
// skips and when it fails, and that withChromium closes the browser when its function throws.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumSkip, servePage, withChromium, type ChromiumSession } from './chromium.js';

/** A raw GET (fetch would normalize '..' out of the path before sending it): status and body. */
function rawGet(origin: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const u = new URL(origin);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

t.test('servePage: files with their MIME types, isolation headers, in-memory files, refusals', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lowwater-serve-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'k.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  writeFileSync(join(root, 'm.js'), 'export const x = 1;\n');
  writeFileSync(join(root, 'sub', 'index.html'), '<p>sub</p>');
  writeFileSync(join(root, 'data.json'), '{"on":"disk"}');
  writeFileSync(join(root, 'raw.bin'), new Uint8Array([1, 2, 3]));
  writeFileSync(join(tmpdir(), 'lowwater-outside.txt'), 'secret');
  t.teardown(() => rmSync(join(tmpdir(), 'lowwater-outside.txt'), { force: true }));

  const site = await servePage(root, { files: { '/data.json': '{"in":"memory"}', '/gen/x.bin': new Uint8Array([9]) } });
  t.teardown(() => site.close());
  t.match(site.origin, /^http:\/\/127\.0\.0\.1:\d+$/);

  const get = (p: string) => fetch(site.url(p));
  const cases: [string, number, string][] = [
    ['/k.wasm', 200, 'application/wasm'],
    ['/m.js', 200, 'text/javascript; charset=utf-8'],
    ['/sub/', 200, 'text/html; charset=utf-8'],
    ['/raw.bin', 200, 'application/octet-stream'],
    ['/', 200, 'text/html; charset=utf-8'],
    ['/gen/x.bin', 200, 'application/octet-stream'],
    ['/missing.js', 404, 'text/plain'],
  ];
  for (const [path, status, type] of cases) {
    const r = await get(path);
    t.equal(r.status, status, `${path}: status`);
    t.equal(r.headers.get('content-type'), type, `${path}: content type`);
    t.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin', `${path}: COOP`);
    t.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp', `${path}: COEP`);
    await r.arrayBuffer();
  }
  t.same(new Uint8Array(await (await get('/k.wasm')).arrayBuffer()), [0, 97, 115, 109, 1, 0, 0, 0], 'bytes as on disk');
  t.same(await (await get('/data.json')).json(), { in: 'memory' }, 'an in-memory file shadows the directory');
  t.equal((await get('/favicon.ico')).status, 204, 'the browser icon request gets an empty answer, not a 404');

  // The file beside the root must not be reachable however '..' is spelled: URL parsing
  // folds a plain or %2e-encoded '..' into the root (404), an encoded slash is refused (403).
  for (const [path, status] of [
    ['/../lowwater-outside.txt', 404],
    ['/%2e%2e/lowwater-outside.txt', 404],
    ['/..%2flowwater-outside.txt', 403],
    ['/sub/..%2f..%2flowwater-outside.txt', 403],
  ] as const) {
    const r = await rawGet(site.origin, path);
    t.equal(r.status, status, `${path}: status`);
    t.notMatch(r.body, /secret/, `${path}: the outside file is not served`);
  }
  t.equal((await fetch(site.url('/m.js'), { method: 'POST', body: 'x' })).status, 405, 'only GET and HEAD');
  t.ok(site.log.includes('200 /k.wasm') && site.log.includes('404 /missing.js'), 'requests are logged');

  const open = await servePage(root, { isolated: false });
  const r = await fetch(open.url('/m.js'));
  t.equal(r.headers.get('cross-origin-opener-policy'), null, 'isolated: false sends no COOP');
  t.equal(r.headers.get('cross-origin-embedder-policy'), null, 'nor COEP');
  await r.arrayBuffer();
  await open.close();
  await t.rejects(fetch(open.url('/m.js')), 'a closed server refuses connections');
});

t.test('chromiumSkip: a missing browser skips outside CI and fails under CI', async (t) => {
  const saved = { CI: process.env.CI, LOWWATER_CHROMIUM: process.env.LOWWATER_CHROMIUM };
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  process.env.LOWWATER_CHROMIUM = join(tmpdir(), 'no-such-chromium');
  delete process.env.CI;
  t.match(chromiumSkip(), /Chromium not found: .*apt-get install -y chromium/);
  process.env.CI = 'false';
  t.type(chromiumSkip(), 'string', 'CI=false is not CI');
  process.env.CI = 'true';
  t.equal(chromiumSkip(), false, 'under CI the test runs (and fails at launch)');
});

t.test('withChromium closes the browser when its function throws', { skip: chromiumSkip() }, async (t) => {
  let session: ChromiumSession | undefined;
  await t.rejects(
    withChromium(async (b) => {
      session = b;
      t.ok(b.browser.isConnected(), 'connected while the function runs');
      throw new Error('test body failed');
    }),
    { message: 'test body failed' },
    "the function's error is what the caller sees",
  );
  t.notOk(session!.browser.isConnected(), 'disconnected afterwards');
});
