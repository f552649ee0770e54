// The S3 emulator's thread: s3rver with the store changes below, answering the S3 emulator handle (s3.ts) by
// messages. In a thread of its own, every byte a run reads or writes is served off the stack's main thread, and the
// garbage its buffers make is collected in this small heap, not in the main one that holds the other emulators.
// Plain JavaScript: a worker thread loads no TypeScript.
'use strict';
const { createHash } = require('node:crypto');
const { createReadStream, ReadStream } = require('node:fs');
const { mkdir, open, readFile, rm } = require('node:fs/promises');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');
const S3Object = require('s3rver/lib/models/object');

const READ_BYTES = 1024 * 1024;

/**
 * Two changes to s3rver's (3.7) file store, both about the data path's cost:
 * - GetObject streams the file in 1 MB reads instead of 64 KB ones.
 * - CompleteMultipartUpload checks each part's ETag against the part stored (S3 answers InvalidPart otherwise),
 *   joins the parts with whole-file reads and writes instead of streaming them through MD5 again, and gives the
 *   object S3's multipart ETag: the MD5 of the parts' MD5s, a dash and the number of parts.
 */
function tuneStore(store) {
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    const content = object && object.content;
    if (content instanceof ReadStream) {
      const { path: file, start, end } = content;
      content.destroy();
      object.content = createReadStream(file, { start, end, highWaterMark: READ_BYTES });
    }
    return object;
  };

  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const uploadDir = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, stored] = await Promise.all([
      readFile(path.join(uploadDir, 'key'), 'utf8'),
      readFile(path.join(uploadDir, 'metadata'), 'utf8').then(JSON.parse),
    ]);
    const { metadata } = new S3Object(bucket, key, null, stored); // s3rver's defaults (content type)
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const digests = [];
    for (const part of sorted) {
      const md5 = await readFile(path.join(uploadDir, `${part.number}.md5`), 'utf8').catch(() => undefined);
      if (md5 !== part.etag) {
        throw new S3Error(
          'InvalidPart',
          "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
          { PartNumber: part.number, ETag: part.etag },
        );
      }
      digests.push(Buffer.from(md5, 'hex'));
    }
    const objectPath = store.getResourcePath(bucket, key, 'object');
    await mkdir(path.dirname(objectPath), { recursive: true });
    const out = await open(objectPath, 'w');
    let size = 0;
    try {
      for (const part of sorted) {
        const data = await readFile(path.join(uploadDir, String(part.number)));
        await out.write(data);
        size += data.length;
      }
    } finally {
      await out.close();
    }
    const etag = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${sorted.length}`;
    await store.putMetadata(bucket, key, metadata, etag);
    await rm(uploadDir, { recursive: true, force: true });
    return { md5: etag, size };
  };
}

const server = new S3rver({
  address: '127.0.0.1',
  port: workerData.port,
  silent: true,
  directory: workerData.directory,
});
tuneStore(server.store);
server.on('event', (event) => parentPort.postMessage({ type: 'event', event }));

const requests = {
  createBucket: (name) => server.store.putBucket(name),
  close: () => server.close(),
};

parentPort.on('message', async ({ id, op, arg }) => {
  try {
    await requests[op](arg);
    parentPort.postMessage({ type: 'reply', id });
  } catch (err) {
    parentPort.postMessage({ type: 'reply', id, error: String((err && err.stack) || err) });
  }
});

server.run().then(
  (address) => parentPort.postMessage({ type: 'ready', port: address.port }),
  (err) => parentPort.postMessage({ type: 'failed', error: String((err && err.stack) || err) }),
);
