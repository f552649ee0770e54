// One Lambda "execution environment": a worker thread with its own process.env (the function's environment) and its
// own module state, running the function's esbuild bundle, as Lambda runs the deployed package.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

process.setSourceMapsEnabled(true);
const mod = require(workerData.bundlePath);
const handler = mod[workerData.exportName];
if (typeof handler !== 'function') {
  throw new Error(`${workerData.bundlePath} exports no function ${workerData.exportName}`);
}

parentPort.on('message', async (msg) => {
  const deadline = Date.now() + msg.timeoutMs;
  const context = {
    ...msg.context,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const result = await handler(msg.event, context);
    parentPort.postMessage({ id: msg.id, ok: true, result: result === undefined ? null : result });
  } catch (err) {
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      error: { name: err && err.name, message: String(err && err.message), stack: err && err.stack },
    });
  }
});
