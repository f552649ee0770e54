// Runs fauxqs in its own process: it is an ES module that needs Node >= 22.5 (node:sqlite), which keeps it out of
// Jest's CommonJS module system and off the event loop that runs the handlers.
import { createServer } from 'node:http';
import { startFauxqs } from 'fauxqs';
// TypeScript, loaded by Node's type stripping (Node >= 22.18 strips types by default; older 22s need the flag sqs.ts
// passes).
import { sqsQueryFront } from './sqs-query.ts';

// Queue URLs: fauxqs names queues `http://sqs.<region>.<host>:<port>/<account>/<name>` with its `host` setting
// (default `localhost`), and ListQueues and GetQueueUrl hand those names to boto3 and the AWS CLI, which cannot resolve
// `sqs.us-east-1.localhost` (nor `sqs.us-east-1.127.0.0.1`) without a DNS trick. Its store builds the URL from the
// request's Host header only when no host is set, and startFauxqs always sets one, so the store's URL builder is
// given that branch here: `http://127.0.0.1:<port>/000000000000/<name>`, the URL queueUrl() in sqs.ts gives. The
// store class is not exported; it is reached by its file, the same module instance app.js uses. The emulator test
// (test/integration/local/emulators.test.ts) fails if a fauxqs upgrade moves or changes it.
const { SqsStore } = await import(new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs')).href);
const buildQueueUrl = SqsStore.prototype.buildQueueUrl;
SqsStore.prototype.buildQueueUrl = function (queueName, port, requestHost, region) {
  return buildQueueUrl.call({ ...this, host: '' }, queueName, port, requestHost, region);
};

// fauxqs listens on a port of its own; the emulator's port is the front's, which answers SQS's query protocol
// (AWS CLI v2 before 2.13 and older SDKs) and passes every other request on (sqs-query.ts).
const server = await startFauxqs({ port: 0, logger: false, dataDir: process.env.FAUXQS_DATA_DIR || undefined });
const front = createServer(sqsQueryFront(server.port));
await new Promise((resolve, reject) => {
  front.once('error', reject);
  front.listen(Number(process.env.FAUXQS_PORT ?? 0), '127.0.0.1', resolve);
});
process.stdout.write(JSON.stringify({ port: front.address().port }) + '\n');
const stop = async () => {
  front.closeAllConnections();
  front.close();
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open; when it dies without a signal, stdin ends and so do we.
process.stdin.on('end', stop);
process.stdin.resume();
