import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SNSClient } from '@aws-sdk/client-sns';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';

/**
 * SDK clients with the SDK's own configuration chain: region, credentials and endpoints come from the
 * environment (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_DYNAMODB`,
 * `AWS_ENDPOINT_URL_BEDROCK`, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, ...), so the same code talks to AWS or to the
 * local stack and never knows which.
 */
export const makeS3 = () => withUnsignedPayloads(new S3Client({ requestHandler: new StreamsOnFreshConnections() }));
export const makeSqs = () => new SQSClient({});
export const makeDynamo = () => new DynamoDBClient({});
export const makeDocumentClient = (client: DynamoDBClient = makeDynamo()) =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
export const makeBedrockRuntime = () => new BedrockRuntimeClient({});
export const makeSns = () => new SNSClient({});

/**
 * Reads a required environment variable; the error names the variable so a misdeployed function says what is missing.
 */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}

/**
 * Builds a function's dependencies once per environment. Lambda keeps one environment per container; the local
 * stack may restart on new ports inside one process, so the cache key is the environment the builder reads.
 */
export function lazyByEnv<T>(build: (env: NodeJS.ProcessEnv) => T): () => T {
  let key: string | undefined;
  let value: T | undefined;
  return () => {
    const next = envFingerprint(process.env);
    if (value === undefined || next !== key) {
      value = build(process.env);
      key = next;
    }
    return value;
  };
}

function envFingerprint(env: NodeJS.ProcessEnv): string {
  return Object.keys(env)
    .filter((k) => k.startsWith('AWS_ENDPOINT_URL') || k.startsWith('BTP_'))
    .sort()
    .map((k) => `${k}=${env[k]}`)
    .join('\n');
}

/**
 * Uploads are sent with `x-amz-content-sha256: UNSIGNED-PAYLOAD` over HTTPS (and to a loopback endpoint), as the
 * other AWS SDKs do by default over TLS: the SDK would otherwise hash every byte of a part or object with SHA-256 just
 * to sign it. The body is still checked end to end by its CRC32 checksum (the SDK's default), which S3 verifies; over
 * plain HTTP to a remote endpoint the payload stays signed.
 */
export function withUnsignedPayloads(s3: S3Client): S3Client {
  s3.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as {
        protocol?: string;
        hostname?: string;
        headers?: Record<string, string>;
        body?: unknown;
      };
      if (
        request.headers &&
        request.body !== undefined &&
        (request.protocol === 'https:' || isLoopback(request.hostname))
      ) {
        request.headers['x-amz-content-sha256'] ??= 'UNSIGNED-PAYLOAD';
      }
      return next(args);
    },
    { step: 'build', name: 'btpUnsignedPayload' },
  );
  return s3;
}

const isLoopback = (host: string | undefined) =>
  host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host ?? '');

/**
 * The SDK's handler, except that a request whose body is a stream goes on a connection of its own. A streamed body
 * (a set split sends as it writes it) cannot be sent twice, so the SDK does not retry it; on a pooled keep-alive
 * connection that the server has just closed (its idle timeout; a Lambda environment frozen between invocations sees
 * such closes late) it would fail where a retried request would not. Other requests share the pool as before.
 */
export class StreamsOnFreshConnections extends NodeHttpHandler {
  private readonly fresh = new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: false }),
    httpsAgent: new HttpsAgent({ keepAlive: false }),
  });

  override handle(...[request, options]: Parameters<NodeHttpHandler['handle']>): ReturnType<NodeHttpHandler['handle']> {
    return request.body instanceof Readable ? this.fresh.handle(request, options) : super.handle(request, options);
  }

  override destroy(): void {
    this.fresh.destroy();
    super.destroy();
  }
}
