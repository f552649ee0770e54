import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StreamsOnFreshConnections } from '../../../shared/aws/clients';

/**
 * A server that closes a keep-alive connection when a second request comes on it, without answering: what a client
 * meets when it reuses a connection the server has just closed for being idle. A retried request survives it; a
 * streamed body cannot be retried.
 */
let server: Server;
let endpoint: string;
let connections = 0;
const bodies: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const socket = req.socket as typeof req.socket & { served?: number };
    socket.served = (socket.served ?? 0) + 1;
    if (socket.served > 1) {
      socket.destroy();
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      bodies.push(Buffer.concat(parts).toString('utf8'));
      res.writeHead(200, { etag: '"e"' }).end();
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const client = (requestHandler: NodeHttpHandler) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    requestHandler,
  });
const put = (s3: S3Client, body: string | Readable, length?: number) =>
  s3.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'k', Body: body, ContentLength: length }));
const stream = (text: string) => Readable.from([Buffer.from(text)]);

describe('streamed uploads go on connections of their own', () => {
  it('with the pool alone, a streamed body sent on a connection the server closes fails (the case guarded against)', async () => {
    const s3 = client(new NodeHttpHandler());
    try {
      await put(s3, 'first');
      await expect(put(s3, stream('second'), 6)).rejects.toThrow(/socket hang up|ECONNRESET/);
    } finally {
      s3.destroy();
    }
  });

  it('each streamed body gets a new connection and arrives whole; other requests keep sharing the pool', async () => {
    const s3 = client(new StreamsOnFreshConnections());
    try {
      const before = connections;
      bodies.length = 0;
      await put(s3, 'first');
      await put(s3, stream('streamed one'), 12);
      await put(s3, stream('streamed two'), 12);
      await put(s3, 'retried'); // on the pooled connection, which the server closes: the SDK retries it on another
      expect(bodies).toEqual(['first', 'streamed one', 'streamed two', 'retried']);
      expect(connections - before).toBe(4);
    } finally {
      s3.destroy();
    }
  });
});
