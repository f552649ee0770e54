// The S3 emulator's thread: s3rver with the store changes below, answering the S3 emulator handle (s3.ts) by
// messages. In a thread of its own, every byte a run reads or writes is served off the stack's main thread, and the
// garbage its buffers make is collected in this small heap, not in the main one that holds the other emulators.
// Plain JavaScript: a worker thread loads no TypeScript.
'use strict';
const { createHash, randomBytes } = require('node:crypto');
const { ReadStream } = require('node:fs');
const { ServerResponse } = require('node:http');
const { Readable } = require('node:stream');
const { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } = require('node:fs/promises');
const path = require('node:path');
const { parentPort, workerData } = require('node:worker_threads');
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');
const S3Object = require('s3rver/lib/models/object');

const READ_BYTES = 1024 * 1024;
/** A request body is written to its file in batches of this many bytes (one writev each), not chunk by chunk. */
const WRITE_BYTES = 4 * 1024 * 1024;
/** The parts of a multipart upload after the first are appended to the object through a buffer of this size. */
const JOIN_BYTES = 4 * 1024 * 1024;

/**
 * Receives a request body (or a Buffer) into `file`: hashed with MD5 as it arrives (S3's ETag of an object or a part
 * it stored whole), and written in batches of WRITE_BYTES while the next batch is received; the socket is paused only
 * when a batch is full while the one before it is still being written. The body lands in a file of its own, renamed
 * onto `file` when complete, so a failed or cut request leaves what was stored there before, as S3 does.
 */
async function receive(file, body) {
  await mkdir(path.dirname(file), { recursive: true });
  const md5 = createHash('md5');
  const partial = `${file}.${randomBytes(6).toString('hex')}.receiving`;
  const out = await open(partial, 'w');
  let size;
  try {
    if (Buffer.isBuffer(body)) {
      md5.update(body);
      size = body.length;
      await out.write(body);
    } else {
      size = await new Promise((resolve, reject) => {
        let batch = [];
        let batchBytes = 0;
        let bytes = 0;
        let writing = false;
        let ended = false;
        let failed = false;
        const fail = (err) => {
          if (failed) return;
          failed = true;
          body.destroy();
          reject(err);
        };
        const flush = () => {
          const chunks = batch;
          batch = [];
          batchBytes = 0;
          writing = true;
          out.writev(chunks).then(() => {
            writing = false;
            if (failed) return;
            if (batchBytes >= WRITE_BYTES || (ended && batch.length > 0)) flush();
            else if (ended) return resolve(bytes);
            if (body.isPaused()) body.resume();
          }, fail);
        };
        body.on('data', (chunk) => {
          md5.update(chunk);
          bytes += chunk.length;
          batch.push(chunk);
          batchBytes += chunk.length;
          if (batchBytes < WRITE_BYTES) return;
          if (writing) body.pause();
          else flush();
        });
        body.once('end', () => {
          ended = true;
          if (writing) return;
          if (batch.length > 0) flush();
          else resolve(bytes);
        });
        body.once('error', fail);
        body.once('close', () => {
          if (!ended) fail(new Error('the request body was cut off'));
        });
      });
    }
    await out.close();
  } catch (err) {
    await out.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
  await rename(partial, file);
  return { size, md5: md5.digest('hex') };
}

/**
 * Joins the part files into `file`: the first copied within the kernel (Node's copyFile), the others appended
 * through one reused buffer, so a join allocates no memory per part. Assembled beside `file` and
 * renamed onto it when whole, as `receive` does. Returns the object's size.
 */
async function join(partFiles, file) {
  await mkdir(path.dirname(file), { recursive: true });
  const partial = `${file}.${randomBytes(6).toString('hex')}.joining`;
  try {
    await copyFile(partFiles[0], partial);
    const out = await open(partial, 'a');
    try {
      let buf;
      for (const partFile of partFiles.slice(1)) {
        const part = await open(partFile, 'r');
        try {
          buf ??= Buffer.allocUnsafeSlow(JOIN_BYTES);
          for (;;) {
            const { bytesRead } = await part.read(buf, 0, buf.length, null);
            if (bytesRead === 0) break;
            await out.write(buf, 0, bytesRead);
          }
        } finally {
          await part.close();
        }
      }
    } finally {
      await out.close();
    }
    await rename(partial, file);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return (await stat(file)).size;
}

/**
 * Buffers of READ_BYTES that a response's socket has finished writing, for the next reads of an object (at most
 * KEPT_BUFFERS of them).
 */
const freeBuffers = [];
const KEPT_BUFFERS = 8;

/**
 * An object's bytes [start, end] from its file, as a GetObject body. Piped into the HTTP response (Koa's way with a
 * stream body), it reads into buffers it takes back once the socket has written them (the write's callback), so a
 * GET allocates no memory per read. With a fresh buffer for each read (fs.createReadStream), this thread's heap took
 * a major collection for every few tens of MB served (14-24 in a run of the 650 MB corpus, against 1-2 now): the
 * buffers outlive young collections while the socket writes them, and only a major collection frees them. Read any
 * other way than piped into a response, it gives fresh buffers, as a file stream does.
 */
class FileBody extends Readable {
  constructor(file, start, end) {
    super({ highWaterMark: READ_BYTES });
    this.file = file;
    this.position = start;
    this.end = end; // inclusive, as fs.createReadStream's
    this.handle = undefined;
    this.sending = false;
  }

  async openFile() {
    this.handle ??= await open(this.file, 'r');
    return this.handle;
  }

  /** The next read into `buf`: its bytes, or undefined at the end (an empty object's range is [0, 0]). */
  async next(buf) {
    const want = Math.min(buf.length, this.end + 1 - this.position);
    if (want <= 0) return undefined;
    const { bytesRead } = await (await this.openFile()).read(buf, 0, want, this.position);
    if (bytesRead === 0) return undefined;
    this.position += bytesRead;
    return buf.subarray(0, bytesRead);
  }

  _read() {
    this.next(Buffer.allocUnsafe(READ_BYTES)).then(
      (bytes) => this.push(bytes ?? null),
      (err) => this.destroy(err),
    );
  }

  pipe(dest, options) {
    if (!(dest instanceof ServerResponse) || this.sending) return super.pipe(dest, options);
    this.sending = true;
    this.send(dest).then(
      () => {
        if (!this.destroyed) dest.end();
      },
      (err) => {
        // The status and length are sent: the client learns of the failure from the connection cut short.
        dest.destroy(err);
        this.destroy(err);
      },
    );
    return dest;
  }

  async send(res) {
    while (!this.destroyed && !res.destroyed) {
      const buf = freeBuffers.pop() ?? Buffer.allocUnsafeSlow(READ_BYTES);
      const bytes = await this.next(buf);
      if (!bytes) {
        freeBuffers.push(buf);
        return;
      }
      // The buffer is read into again only after the socket has written it.
      const more = res.write(bytes, (err) => {
        if (!err && freeBuffers.length < KEPT_BUFFERS) freeBuffers.push(buf);
      });
      if (!more) await drained(res);
    }
  }

  _destroy(err, callback) {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return callback(err);
    handle.close().then(
      () => callback(err),
      () => callback(err),
    );
  }
}

/** Resolves when `res` can take more bytes, or is closed. */
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Changes to s3rver's (3.7) file store, about the data path's cost (every byte a run writes is received here, and
 * the stack's functions and emulators share two cores):
 * - PutObject and UploadPart receive the body with `receive`: hashed as it arrives, written in batches of a few MB
 *   (s3rver pipes it through a Transform into a write stream, in many small writes), into a file of its
 *   own renamed into place when complete. The ETags are S3's: the MD5 of the object's or the part's bytes.
 * - GetObject sends the file in 1 MB reads instead of 64 KB ones, into buffers it reuses (FileBody).
 * - CompleteMultipartUpload checks each part's ETag against the part stored (S3 answers InvalidPart otherwise),
 *   joins the parts with `join` instead of streaming them through MD5 again, and gives the object S3's multipart
 *   ETag: the MD5 of the parts' MD5s, a dash and the number of parts.
 */
function tuneStore(store) {
  store.putObject = async (object) => {
    const { size, md5 } = await receive(store.getResourcePath(object.bucket, object.key, 'object'), object.content);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size, md5 };
  };

  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const partPath = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    const { size, md5 } = await receive(partPath, content);
    await writeFile(`${partPath}.md5`, md5);
    return { size, md5 };
  };

  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const object = await getObject(bucket, key, options);
    const content = object && object.content;
    if (content instanceof ReadStream) {
      const { path: file, start, end } = content;
      content.destroy();
      object.content = new FileBody(file, start ?? 0, end);
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
    const size = await join(
      sorted.map((part) => path.join(uploadDir, String(part.number))),
      objectPath,
    );
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
