/**
 * `npm start [-- <dataset file>] [--config <run config>] [--catalog-date YYYY-MM-DD]`: starts the local stack,
 * uploads the dataset under `datasets/` (the upload starts the run, as in AWS), follows the run, prints a summary,
 * stops the stack, and exits 0 only if the run succeeded. With no file it uses a generated sample in
 * databricks-dolly-15k-ja's schema.
 *
 * Nothing is trained: the Bedrock emulator validates the job and the data as Bedrock does and plays out the job's
 * lifecycle on a fast clock, writing plausible, synthetic metrics.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startStack } from '../stack';
import { sampleJsonl } from '../sample/generate';
import { DynamoRunStore } from '../../shared/runs/dynamo-run-store';
import { findRunBySource, followRun, listArtifacts, summarize } from './follow';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      // Plays Bedrock's model lifecycle as of that day (e.g. 2024-02-01 for the 2024 Titan recipe); absent: today.
      'catalog-date': { type: 'string' },
      'data-dir': { type: 'string' },
      'timeout-minutes': { type: 'string', default: '30' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  if (file && !existsSync(file)) {
    console.error(`dataset file not found: ${file}`);
    return 2;
  }
  const print = (line: string) => console.log(line);
  print('Starting the local stack (S3, SQS, DynamoDB and the Bedrock emulator on 127.0.0.1)...');
  print(
    'Note: no model is trained here. The Bedrock emulator checks requests and data as Bedrock does and plays out job and throughput lifecycles on a fast clock.',
  );
  const stack = await startStack({
    dataDir: values['data-dir'],
    retryDelaySeconds: 2,
    applyEnv: true,
    ...(values['catalog-date'] ? { catalogDate: values['catalog-date'] } : {}),
    onInvoke: values.quiet
      ? undefined
      : ({ functionName, records, failed, error }) => {
          if (failed > 0)
            print(
              `  ${functionName}: ${failed} of ${records} record(s) failed${error ? `: ${error.message}` : ''}; they will be retried`,
            );
        },
  });
  try {
    const bucket = stack.bucketName('DatasetsBucket');
    const name = file ? path.basename(file) : 'sample-dolly-ja.jsonl';
    const key = `datasets/${name}`;
    if (values.config) {
      // The sidecar goes first: ingest reads it when the dataset's notification arrives.
      await stack.clients.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${key}.run.json`, Body: readFileSync(values.config) }),
      );
      print(`uploaded run configuration s3://${bucket}/${key}.run.json`);
    }
    const body = file ? createReadStream(file) : sampleJsonl();
    const size = file ? statSync(file).size : Buffer.byteLength(body as string);
    await new Upload({
      client: stack.clients.s3,
      params: { Bucket: bucket, Key: key, Body: body },
      partSize: 16 * 1024 * 1024,
    }).done();
    print(
      `uploaded s3://${bucket}/${key} (${size} bytes${file ? '' : ', generated sample'}); waiting for the run to start...`,
    );

    const db = DynamoDBDocumentClient.from(stack.clients.dynamodb);
    const table = stack.tableName('RunsTable');
    const store = new DynamoRunStore(db, table);
    const deadline = Date.now() + 60_000;
    let run = await findRunBySource(db, table, bucket, key);
    while (!run && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      run = await findRunBySource(db, table, bucket, key);
    }
    if (!run) {
      print('No run was started from the upload within a minute (see the ingest dead-letter queue).');
      return 1;
    }
    print(`run ${run.runId} started`);
    const final = await followRun(store, run.runId, { timeoutMs: Number(values['timeout-minutes']) * 60_000, print });
    const artifactsBucket = stack.bucketName('ArtifactsBucket');
    // The report function writes the run's report when it hears the run ended; give it a moment.
    let artifacts = await listArtifacts(stack.clients.s3, artifactsBucket, `runs/${run.runId}/`);
    for (let i = 0; i < 60 && final && !artifacts.some((a) => a.key.endsWith('/report.md')); i++) {
      await new Promise((r) => setTimeout(r, 250));
      artifacts = await listArtifacts(stack.clients.s3, artifactsBucket, `runs/${run.runId}/`);
    }
    print(
      summarize(
        final ?? run,
        artifacts.filter((a) => !a.key.includes('/chunks/')),
        artifactsBucket,
      ),
    );
    return final?.status === 'succeeded' ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
