import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { startS3, type S3Emulator } from '../../../local/emulators/s3';
import { withUnsignedPayloads } from '../../../shared/aws/clients';
import { putStream, uploadStream } from '../../../shared/aws/s3-io';
import { LineWriter } from '../../../shared/prep/lines';

/**
 * The artifact writes of shared/aws/s3-io.ts against the S3 emulator: a PUT of announced length whose body streams
 * as it is written, and the failures of both kinds of write, which must end the write rather than leave a writer
 * waiting for a request that has failed (or a request waiting for a body that will not come).
 */
const BUCKET = 'btp-writes';
let s3e: S3Emulator;
let s3: S3Client;

beforeAll(async () => {
  s3e = await startS3();
  s3 = withUnsignedPayloads(
    new S3Client({
      endpoint: s3e.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  s3.destroy();
  await s3e.close();
});

const read = async (key: string) => {
  try {
    return await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString('utf8');
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
};
const lines = (n: number, width = 100) => Array.from({ length: n }, (_, i) => `{"i":${i},"t":"${'あ'.repeat(width)}"}`);
const bytesOf = (ls: string[]) => ls.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

describe('a PUT of known length, streamed as it is written', () => {
  it('stores exactly the lines written, in writes spread over time and larger than the stream buffers', async () => {
    const ls = lines(30_000); // about 9 MB: more than a multipart part, in one request
    const t = putStream(s3, BUCKET, 'streamed/set.jsonl', 'application/x-ndjson', bytesOf(ls));
    const w = new LineWriter('streamed/set.jsonl', t.stream, t.done);
    for (const [i, l] of ls.entries()) {
      const wait = w.write(l);
      if (wait) await wait;
      if (i % 10_000 === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const file = await w.close();
    expect(file.bytes).toBe(bytesOf(ls));
    expect(await read('streamed/set.jsonl')).toBe(ls.join('\n') + '\n');
  });

  it('an empty set is an empty object', async () => {
    const t = putStream(s3, BUCKET, 'streamed/empty.jsonl', 'application/x-ndjson', 0);
    await new LineWriter('streamed/empty.jsonl', t.stream, t.done).close();
    expect(await read('streamed/empty.jsonl')).toBe('');
  });

  it('fewer bytes than announced fail the write, naming the key and both lengths, and store nothing', async () => {
    const ls = lines(10);
    const t = putStream(s3, BUCKET, 'streamed/short.jsonl', 'application/x-ndjson', bytesOf(ls) + 5);
    const w = new LineWriter('streamed/short.jsonl', t.stream, t.done);
    for (const l of ls) await w.write(l);
    await expect(w.close()).rejects.toThrow(
      `streamed/short.jsonl: only ${bytesOf(ls)} bytes written, where ${bytesOf(ls) + 5} were announced`,
    );
    expect(await read('streamed/short.jsonl')).toBeUndefined();
  });

  it('more bytes than announced fail the write and store nothing', async () => {
    const ls = lines(10);
    const t = putStream(s3, BUCKET, 'streamed/long.jsonl', 'application/x-ndjson', bytesOf(ls) - 1);
    const w = new LineWriter('streamed/long.jsonl', t.stream, t.done);
    for (const l of ls) w.write(l);
    await expect(w.close()).rejects.toThrow(
      /streamed\/long\.jsonl: more than \d+ bytes written, where \d+ were announced/,
    );
    expect(await read('streamed/long.jsonl')).toBeUndefined();
  });

  it('a writer that gives up aborts the request: nothing is stored and the emulator serves on', async () => {
    const ls = lines(20_000);
    const t = putStream(s3, BUCKET, 'streamed/abandoned.jsonl', 'application/x-ndjson', bytesOf(ls));
    const w = new LineWriter('streamed/abandoned.jsonl', t.stream, t.done);
    for (const l of ls.slice(0, 10_000)) {
      const wait = w.write(l);
      if (wait) await wait;
    }
    w.abort(new Error('pass 2 failed'));
    await expect(t.done).rejects.toThrow('pass 2 failed');
    expect(await read('streamed/abandoned.jsonl')).toBeUndefined();
  });

  it('a writer that gives up over an object stored before leaves that object, as S3 does', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'streamed/kept.jsonl', Body: 'before\n' }));
    const ls = lines(40_000); // about 12 MB, of which the emulator has received several MB when the write stops
    const t = putStream(s3, BUCKET, 'streamed/kept.jsonl', 'application/x-ndjson', bytesOf(ls));
    const w = new LineWriter('streamed/kept.jsonl', t.stream, t.done);
    for (const l of ls.slice(0, 30_000)) {
      const wait = w.write(l);
      if (wait) await wait;
    }
    w.abort(new Error('pass 2 failed'));
    await expect(t.done).rejects.toThrow('pass 2 failed');
    // The emulator learns of the cut when the connection closes; a moment later it still serves the earlier object.
    await new Promise((r) => setTimeout(r, 200));
    expect(await read('streamed/kept.jsonl')).toBe('before\n');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'streamed/kept' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['streamed/kept.jsonl']);
  });
});

describe('a multipart write', () => {
  it("that fails (no such bucket) fails its writer with S3's reason, not the closing of its stream", async () => {
    const t = uploadStream(s3, 'btp-no-such-bucket', 'parts/x.jsonl', 'application/x-ndjson', 5 * 1024 * 1024);
    const w = new LineWriter('parts/x.jsonl', t.stream, t.done);
    const writing = (async () => {
      for (const l of lines(200_000)) {
        const wait = w.write(l);
        if (wait) await wait;
      }
      await w.close();
    })();
    await expect(writing).rejects.toThrow(/specified bucket does not exist/);
  });

  it('that its writer gives up is aborted and stores nothing', async () => {
    const t = uploadStream(s3, BUCKET, 'parts/abandoned.jsonl', 'application/x-ndjson', 5 * 1024 * 1024);
    const w = new LineWriter('parts/abandoned.jsonl', t.stream, t.done);
    for (const l of lines(30_000)) {
      const wait = w.write(l);
      if (wait) await wait;
    }
    w.abort(new Error('pass 2 failed'));
    await expect(t.done).rejects.toThrow();
    expect(await read('parts/abandoned.jsonl')).toBeUndefined();
  });
});
