import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { withUnsignedPayloads } from '../../../shared/aws/clients';

type SentRequest = { headers: Record<string, string> };

/**
 * What the S3 client puts on the wire is only visible below the SDK: a request handler that records the request and
 * answers as S3 does for PutObject stands in for the network. (That the emulated S3 accepts unsigned payloads is
 * covered by every stack test, whose functions upload this way.)
 */
const sent = async (
  endpoint: string,
  body: Buffer | Readable = Buffer.from('{"prompt":"a","completion":"b"}\n'),
  length?: number,
): Promise<SentRequest> => {
  let seen: SentRequest | undefined;
  const s3 = withUnsignedPayloads(
    new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: {
        handle: async (request: SentRequest) => {
          seen = request;
          return { response: { statusCode: 200, headers: { etag: '"x"' }, body: Readable.from([]) } };
        },
      },
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: body, ContentLength: length }));
  return seen!;
};

describe('uploads are not hashed just to be signed', () => {
  it('over HTTPS the payload is unsigned, still carries its CRC32 checksum, and the header is signed', async () => {
    const req = await sent('https://s3.us-east-1.amazonaws.com');
    expect(req.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(req.headers['x-amz-checksum-crc32']).toBeDefined();
    expect(req.headers['authorization']).toMatch(/SignedHeaders=[^,]*x-amz-content-sha256/);
  });

  it('to a loopback endpoint (the local stack) the payload is unsigned', async () => {
    expect((await sent('http://127.0.0.1:4569')).headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect((await sent('http://localhost:4569')).headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('a streamed body of known length (a set split writes in one PUT) goes as aws-chunked with a CRC32 trailer', async () => {
    const req = await sent(
      'https://s3.us-east-1.amazonaws.com',
      Readable.from([Buffer.from('{"prompt":"a",'), Buffer.from('"completion":"b"}\n')]),
      32,
    );
    expect(req.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(req.headers['content-encoding']).toBe('aws-chunked');
    expect(req.headers['x-amz-decoded-content-length']).toBe('32');
    expect(req.headers['x-amz-trailer']).toBe('x-amz-checksum-crc32');
  });

  it('over plain HTTP to another host the payload stays signed with its SHA-256', async () => {
    const req = await sent('http://s3.internal.example:9000');
    expect(req.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
  });
});
