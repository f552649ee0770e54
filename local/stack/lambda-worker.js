// One Lambda "execution environment": a worker thread with its own process.env (the function's environment) and its
// own module state, running the function's esbuild bundle, as Lambda runs the deployed package.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const diagnostics = require('node:diagnostics_channel');

/** The exit code of an environment killed by an injected fault (lambda-runner.ts reads it). */
const INJECTED_CRASH_EXIT = 86;

process.setSourceMapsEnabled(true);
const mod = require(workerData.bundlePath);
const handler = mod[workerData.exportName];
if (typeof handler !== 'function') {
  throw new Error(`${workerData.bundlePath} exports no function ${workerData.exportName}`);
}

// The fault hook: every AWS SDK call leaves this thread as one HTTP/1.1 request or one HTTP/2 stream, which Node
// announces on its diagnostics channels (https://nodejs.org/api/diagnostics_channel.html#built-in-channels). The
// invocation's calls are counted; a crash point `{ atCall, when }` ends the whole environment at the Nth call, before
// the request leaves (`before`: the write never happened) or as its response arrives (`after`: the write happened and
// the handler never learns it), as a Lambda environment dies on an out-of-memory kill or a host failure. The channels
// are this thread's own, so the stack's other functions and emulators are untouched.
// A crash point may name an `operation`: then only the calls of that operation are counted toward `atCall`, named by
// the X-Amz-Target header of the JSON protocols (DynamoDB, SQS), so a test can aim at one write whatever retries or
// reads come before it.
let current; // { calls, matched, fault, marked: WeakSet } while an invocation runs
const crash = () => process.exit(INJECTED_CRASH_EXIT);
const operationOf = (request) => String((request.getHeader && request.getHeader('x-amz-target')) || '');
const onStart = (request) => {
  if (!current) return;
  current.calls++;
  const fault = current.fault;
  if (!fault) return;
  if (fault.operation) {
    if (!operationOf(request).endsWith(`.${fault.operation}`) || ++current.matched !== fault.atCall) return;
  } else if (current.calls !== fault.atCall) return;
  if (fault.when === 'before') crash();
  else current.marked.add(request);
};
const onResponse = (request) => {
  if (current && current.marked.has(request)) crash();
};
diagnostics.subscribe('http.client.request.start', (m) => onStart(m.request));
diagnostics.subscribe('http.client.response.finish', (m) => onResponse(m.request));
diagnostics.subscribe('http2.client.stream.created', (m) => onStart(m.stream));
diagnostics.subscribe('http2.client.stream.finish', (m) => onResponse(m.stream));

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
  const invocation = { calls: 0, matched: 0, fault: msg.fault, marked: new WeakSet() };
  current = invocation;
  try {
    const result = await handler(msg.event, context);
    parentPort.postMessage({
      id: msg.id,
      ok: true,
      result: result === undefined ? null : result,
      sdkCalls: invocation.calls,
    });
  } catch (err) {
    parentPort.postMessage({
      id: msg.id,
      ok: false,
      error: { name: err && err.name, message: String(err && err.message), stack: err && err.stack },
      sdkCalls: invocation.calls,
    });
  } finally {
    if (current === invocation) current = undefined;
  }
});
