import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

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
 * Where a temporary S3 store goes: in memory (Linux's /dev/shm) when it has room for big datasets, as the other
 * emulators keep their state in memory; otherwise the temporary folder. Writing to a tmpfs costs far less CPU than
 * writing to a disk's page cache, and every byte a run writes goes through here.
 */
function scratchRoot(): string {
  const shm = '/dev/shm';
  try {
    const fs = statfsSync(shm);
    if (fs.bavail * fs.bsize >= SHM_MIN_FREE) {
      accessSync(shm, constants.W_OK);
      return shm;
    }
  } catch {
    // no /dev/shm here
  }
  return tmpdir();
}

const SHM_MIN_FREE = 8 * 1024 ** 3;

/**
 * S3 on 127.0.0.1 backed by s3rver, in a worker thread of its own (s3-worker.js). State lives in `dataDir` when given
 * (kept across restarts), otherwise in a temporary folder removed on close (in memory when the machine has room).
 * Needs `--openssl-legacy-provider` for ListObjectsV2 continuation tokens (s3rver encrypts them with DES).
 */
export async function startS3(opts: { dataDir?: string; port?: number } = {}): Promise<S3Emulator> {
  const directory = opts.dataDir ? path.join(opts.dataDir, 's3') : mkdtempSync(path.join(scratchRoot(), 'btp-s3-'));
  mkdirSync(directory, { recursive: true });
  const worker = new Worker(path.join(__dirname, 's3-worker.js'), { workerData: { directory, port: opts.port ?? 0 } });
  const listeners: Array<(event: S3rverEvent) => void> = [];
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  let nextId = 0;
  let failed: Error | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    worker.on('message', (m: { type: string; port?: number; event?: S3rverEvent; id?: number; error?: string }) => {
      if (m.type === 'ready') resolve(m.port!);
      else if (m.type === 'failed') reject(new Error(`the S3 emulator did not start: ${m.error}`));
      else if (m.type === 'event') listeners.forEach((l) => l(m.event!));
      else if (m.type === 'reply') {
        const p = pending.get(m.id!);
        pending.delete(m.id!);
        if (m.error) p?.reject(new Error(m.error));
        else p?.resolve();
      }
    });
    worker.on('error', (err) => {
      failed = err;
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  });
  const request = (op: 'createBucket' | 'close', arg?: string) =>
    new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, arg });
    });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    onEvent: (listener) => void listeners.push(listener),
    createBucket: (name) => request('createBucket', name),
    close: async () => {
      if (!failed) await request('close');
      await worker.terminate();
      if (!opts.dataDir) rmSync(directory, { recursive: true, force: true });
    },
  };
}
