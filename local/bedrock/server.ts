import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { BedrockError } from './errors';

export interface EmulatorRequest {
  method: string;
  /**
   * Path segments, each percent-decoded on its own: an encoded ARN label stays one segment (docs/bedrock-api.md §1
   * "Path labels").
   * https://docs.aws.amazon.com/bedrock/latest/APIReference/welcome.html
   */
  segments: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a Buffer or string as is. */
  body?: unknown;
}

export type RequestHandler = (req: EmulatorRequest) => Promise<EmulatorResponse>;

export interface Listener {
  port: number;
  close(): Promise<void>;
}

const H2_PREFACE_START = Buffer.from('PRI');

/**
 * One port for both protocols the SDKs use: `@aws-sdk/client-bedrock` speaks HTTP/1.1, and
 * `@aws-sdk/client-bedrock-runtime` defaults to HTTP/2 with prior knowledge (h2c) since 3.798 (docs/bedrock-api.md §1).
 * A plain
 * TCP server reads each connection's first bytes: the HTTP/2 client preface starts `PRI * HTTP/2.0`, which no
 * HTTP/1.1 method does. The bytes are put back and the socket handed to the matching server.
 * https://github.com/aws/aws-sdk-js-v3/issues/7041
 */
export async function listen(port: number, handler: RequestHandler): Promise<Listener> {
  const onRequest = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    void serve(req, res, handler);
  };
  const http1 = http.createServer(onRequest);
  const h2 = http2.createServer(onRequest);
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that resets the connection must not take the emulator down.
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const isH2 = first.subarray(0, 3).equals(H2_PREFACE_START);
      (isH2 ? h2 : http1).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (tcp.address() as net.AddressInfo).port;
  return {
    port: actual,
    close: async () => {
      const closed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      http1.closeAllConnections();
      await closed;
    },
  };
}

async function serve(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
  handler: RequestHandler,
): Promise<void> {
  const requestId = randomUUID();
  let response: EmulatorResponse;
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const segments = url.pathname
      .split('/')
      .filter((s) => s.length > 0)
      .map(decodeSegment);
    response = await handler({
      method: req.method ?? 'GET',
      segments,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks),
    });
  } catch (err) {
    response = errorResponse(err);
  }
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId, ...response.headers };
  let payload: Buffer;
  if (response.body === undefined) payload = Buffer.alloc(0);
  else if (Buffer.isBuffer(response.body)) payload = response.body;
  else if (typeof response.body === 'string') payload = Buffer.from(response.body);
  else {
    payload = Buffer.from(JSON.stringify(response.body));
    headers['content-type'] ??= 'application/json';
  }
  headers['content-length'] = String(payload.length);
  // The two compat response types differ only in typing here.
  (res as http.ServerResponse).writeHead(response.status, headers);
  (res as http.ServerResponse).end(payload);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * restJson1 error: the type in `x-amzn-errortype` (which the SDK reads first) and `message` in the body
 * (docs/bedrock-api.md §1.1).
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html
 */
export function errorResponse(err: unknown): EmulatorResponse {
  const e =
    err instanceof BedrockError
      ? err
      : new BedrockError(
          'InternalServerException',
          500,
          `Bedrock emulator internal error: ${err instanceof Error ? err.message : String(err)}`,
        );
  return { status: e.status, headers: { 'x-amzn-errortype': e.code }, body: { message: e.message, ...e.members } };
}
