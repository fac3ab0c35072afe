// The Node side of bench/web_runtimes.ts: a child process (forked with the V8 flags under
// test) that imports the same browser bundle as the page and answers the driver's
// messages: { id, bundle } loads it, { id, setup: [workload, opts] } and { id, run: n }
// call it; { id, debugger: true } enables the inspector's Debugger domain in this process,
// as an attached debugger would. Plain JavaScript, so no TypeScript loader runs next to
// the measurement.
import { Session } from 'node:inspector';
import { pathToFileURL } from 'node:url';

let session;

let mod;
process.on('message', async (m) => {
  try {
    let result;
    if (m.bundle) {
      mod = await import(pathToFileURL(m.bundle).href);
      result = { node: process.version, v8: process.versions.v8, execArgv: process.execArgv };
    } else if (m.debugger) {
      session = new Session();
      session.connect();
      await new Promise((ok, fail) => session.post('Debugger.enable', (e) => (e ? fail(e) : ok())));
    } else if (m.setup) result = await mod.setup(...m.setup);
    else if (m.run !== undefined) result = mod.run(m.run);
    process.send({ id: m.id, result });
  } catch (e) {
    process.send({ id: m.id, error: String(e && e.stack ? e.stack : e) });
  }
});
process.on('disconnect', () => process.exit(0));
