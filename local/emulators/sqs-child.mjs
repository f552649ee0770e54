// Runs fauxqs in its own process: it is an ES module that needs Node >= 22.5 (node:sqlite), which keeps it out of
// Jest's CommonJS module system and off the event loop that runs the handlers.
import { startFauxqs } from 'fauxqs';

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

const server = await startFauxqs({
  port: Number(process.env.FAUXQS_PORT ?? 0),
  logger: false,
  dataDir: process.env.FAUXQS_DATA_DIR || undefined,
});
process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open; when it dies without a signal, stdin ends and so do we.
process.stdin.on('end', stop);
process.stdin.resume();
