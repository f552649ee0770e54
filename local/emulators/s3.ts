import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
// s3rver has no type declarations; the little we use is typed below.
const S3rver = require('s3rver');

/** What s3rver emits for each object write: its own, not quite S3's, notification shape. */
export interface S3rverEvent {
  Records: Array<{
    eventName: string;
    eventTime: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer: string } };
  }>;
}

export interface S3Emulator {
  endpoint: string;
  port: number;
  /** Called for every ObjectCreated/ObjectRemoved event, in s3rver's shape (see notifications.ts for S3's). */
  onEvent(listener: (event: S3rverEvent) => void): void;
  createBucket(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * S3 on 127.0.0.1 backed by s3rver. State lives in `dataDir` when given (kept across restarts),
 * otherwise in a temporary folder removed on close.
 * Needs `--openssl-legacy-provider` for ListObjectsV2 continuation tokens (s3rver encrypts them with DES).
 */
export async function startS3(opts: { dataDir?: string; port?: number } = {}): Promise<S3Emulator> {
  const directory = opts.dataDir ? path.join(opts.dataDir, 's3') : mkdtempSync(path.join(tmpdir(), 'btp-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: opts.port ?? 0, silent: true, directory });
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    port: address.port,
    onEvent: (listener) => server.on('event', listener),
    createBucket: async (name) => {
      await server.store.putBucket(name);
    },
    close: async () => {
      await server.close();
      if (!opts.dataDir) rmSync(directory, { recursive: true, force: true });
    },
  };
}
