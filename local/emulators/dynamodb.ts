import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
const dynalite = require('dynalite');

export interface DynamoEmulator {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

/**
 * DynamoDB on 127.0.0.1 backed by dynalite (pure JavaScript). In memory unless `dataDir` is given.
 * dynalite implements no transactions (TransactWriteItems) and ignores ReturnValuesOnConditionCheckFailure,
 * so the project's code uses neither.
 */
export async function startDynamo(opts: { dataDir?: string; port?: number } = {}): Promise<DynamoEmulator> {
  let storePath: string | undefined;
  if (opts.dataDir) {
    storePath = path.join(opts.dataDir, 'dynamodb');
    mkdirSync(storePath, { recursive: true });
  }
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: storePath });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
