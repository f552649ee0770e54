// Runs fauxqs in its own process: it is an ES module that needs Node >= 22.5 (node:sqlite), which keeps it out of
// Jest's CommonJS module system and off the event loop that runs the handlers.
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({
  port: Number(process.env.FAUXQS_PORT ?? 0),
  logger: false,
  host: '127.0.0.1',
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
